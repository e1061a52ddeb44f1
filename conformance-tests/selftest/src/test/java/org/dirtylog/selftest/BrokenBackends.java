package org.dirtylog.selftest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.dirtylog.spi.BackendVcpu;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.dirtylog.spi.MemoryRegion;
import org.dirtylog.spi.RandomWriter;
import org.dirtylog.spi.RandomWrites;
import org.dirtylog.spi.UserMemory;

/**
 * Deliberately broken backends built at the SPI level: each wraps a correct backend and breaks
 * one behaviour the way a real implementation could. The self-test asserts which rule catches
 * each one.
 */
final class BrokenBackends {

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BrokenBackends() {
    }

    /** A VM wrapper that knows each live slot's size (for bitmap-size aware defects). */
    static class SizedVm extends ForwardingBackend.Vm {
        final Map<Integer, Long> npages = new ConcurrentHashMap<>();
        private UserMemory scratch;

        SizedVm(BackendVm d) {
            super(d);
        }

        @Override
        public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
            IoctlResult<Integer> r = delegate.setUserMemoryRegion(region);
            if (r.isOk()) {
                if (region.memorySize() == 0) {
                    npages.remove(region.slot());
                } else {
                    npages.put(region.slot(), region.npages());
                }
            }
            return r;
        }

        /** Returns a page of the delegate's user memory to harvest into first. */
        synchronized UserMemory scratch() {
            if (scratch == null) {
                scratch = delegate.mmap(KvmApi.PAGE_SIZE).value();
            }
            return scratch;
        }
    }

    /** Returns -EINVAL instead of -ENOENT from KVM_GET_DIRTY_LOG on a missing or unlogged slot. */
    static DirtyLogBackend enoentAsEinval(DirtyLogBackend correct) {
        return new ForwardingBackend("enoent-as-einval", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        IoctlResult<Integer> r = delegate.getDirtyLog(slot, dirtyBitmap);
                        return Errno.ENOENT.equals(r.errnoOrNull()) ? IoctlResult.err(Errno.EINVAL) : r;
                    }
                };
            }
        };
    }

    /** Checks the user buffer before the slot: -EFAULT wins over -ENOENT (wrong errno order). */
    static DirtyLogBackend faultBeforeNoEntry(DirtyLogBackend correct) {
        return new ForwardingBackend("efault-before-enoent", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        if (slot >= 0 && slot < 0x10000 && !delegate.accessUser(dirtyBitmap, 8).isOk()) {
                            return IoctlResult.err(Errno.EFAULT);
                        }
                        return delegate.getDirtyLog(slot, dirtyBitmap);
                    }
                };
            }
        };
    }

    /** A successful KVM_GET_DIRTY_LOG never returns (it ignores interrupts too, like a task stuck in the kernel). */
    static DirtyLogBackend hangsInGetDirtyLog(DirtyLogBackend correct) {
        return new ForwardingBackend("hangs-in-get-dirty-log", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        IoctlResult<Integer> r = delegate.getDirtyLog(slot, dirtyBitmap);
                        while (r.isOk()) {
                            try {
                                Thread.sleep(Long.MAX_VALUE);
                            } catch (InterruptedException ignored) {
                                // A hung backend does not care that the suite gave up on it.
                            }
                        }
                        return r;
                    }
                };
            }
        };
    }

    /** KVM_SET_USER_MEMORY_REGION throws when an existing slot's flags change. */
    static DirtyLogBackend throwsOnLogToggle(DirtyLogBackend correct) {
        return new ForwardingBackend("throws-on-log-toggle", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new SizedVm(vm) {
                    private final Map<Integer, Integer> flags = new ConcurrentHashMap<>();

                    @Override
                    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
                        Integer old = flags.get(region.slot());
                        if (old != null && region.memorySize() != 0 && old != region.flags()) {
                            throw new IllegalStateException("flag change not implemented");
                        }
                        IoctlResult<Integer> r = super.setUserMemoryRegion(region);
                        if (r.isOk()) {
                            if (region.memorySize() == 0) {
                                flags.remove(region.slot());
                            } else {
                                flags.put(region.slot(), region.flags());
                            }
                        }
                        return r;
                    }
                };
            }
        };
    }

    /** KVM_GET_DIRTY_LOG on a clean slot returns 0 without writing the buffer. */
    static DirtyLogBackend cleanGetLeavesBuffer(DirtyLogBackend correct) {
        return new ForwardingBackend("clean-get-leaves-buffer", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new SizedVm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        Long n = npages.get(slot);
                        if (n == null) {
                            return delegate.getDirtyLog(slot, dirtyBitmap);
                        }
                        UserMemory tmp = scratch();
                        IoctlResult<Integer> r = delegate.getDirtyLog(slot, tmp.address());
                        long bytes = KvmApi.dirtyBitmapBytes(n);
                        if (!r.isOk()) {
                            return r;
                        }
                        MemorySegment taken = tmp.segment().asSlice(0, bytes);
                        boolean clean = true;
                        for (long off = 0; off < bytes; off += 8) {
                            clean &= taken.get(LE_LONG, off) == 0;
                        }
                        if (clean) {
                            return r;
                        }
                        IoctlResult<MemorySegment> out = delegate.accessUser(dirtyBitmap, bytes);
                        if (!out.isOk()) {
                            return IoctlResult.err(Errno.EFAULT);
                        }
                        out.value().copyFrom(taken);
                        return r;
                    }
                };
            }
        };
    }

    /** KVM_GET_DIRTY_LOG sets the bits past npages in the last word. */
    static DirtyLogBackend bitsPastNpages(DirtyLogBackend correct) {
        return new ForwardingBackend("bits-past-npages", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new SizedVm(vm) {
                    @Override
                    public IoctlResult<Integer> getDirtyLog(int slot, long dirtyBitmap) {
                        IoctlResult<Integer> r = delegate.getDirtyLog(slot, dirtyBitmap);
                        Long n = npages.get(slot);
                        if (r.isOk() && n != null && n % 64 != 0) {
                            long bytes = KvmApi.dirtyBitmapBytes(n);
                            MemorySegment out = delegate.accessUser(dirtyBitmap, bytes).value();
                            long last = out.get(LE_LONG, bytes - 8);
                            out.set(LE_LONG, bytes - 8, last | (-1L << (n % 64)));
                        }
                        return r;
                    }
                };
            }
        };
    }

    /** Moving a slot harvests and throws away its pending dirty pages. */
    static DirtyLogBackend moveDropsPending(DirtyLogBackend correct) {
        return new ForwardingBackend("move-drops-pending", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new SizedVm(vm) {
                    private final Map<Integer, Long> gpa = new ConcurrentHashMap<>();

                    @Override
                    public IoctlResult<Integer> setUserMemoryRegion(MemoryRegion region) {
                        Long old = gpa.get(region.slot());
                        IoctlResult<Integer> r = super.setUserMemoryRegion(region);
                        if (r.isOk() && old != null && region.memorySize() != 0 && old != region.guestPhysAddr()
                                && (region.flags() & KvmApi.KVM_MEM_LOG_DIRTY_PAGES) != 0) {
                            delegate.getDirtyLog(region.slot(), scratch().address());
                        }
                        if (r.isOk()) {
                            if (region.memorySize() == 0) {
                                gpa.remove(region.slot());
                            } else {
                                gpa.put(region.slot(), region.guestPhysAddr());
                            }
                        }
                        return r;
                    }
                };
            }
        };
    }

    /** A vCPU whose random-writing session ends in a crash (the guest took an exit it did not expect). */
    static DirtyLogBackend vcpuCrashes(DirtyLogBackend correct) {
        return new ForwardingBackend("vcpu-crashes", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    BackendVcpu wrap(BackendVcpu vcpu) {
                        return new Vcpu(vcpu) {
                            @Override
                            public IoctlResult<RandomWriter> startRandomWrites(RandomWrites writes) {
                                return d.startRandomWrites(writes).map(w -> new RandomWriter() {
                                    @Override
                                    public long writesSoFar() {
                                        return w.writesSoFar();
                                    }

                                    @Override
                                    public IoctlResult<Long> stop() {
                                        w.stop();
                                        return IoctlResult.err(Errno.EIO);
                                    }
                                });
                            }
                        };
                    }
                };
            }
        };
    }

    /** KVM_SWITCH_DIRTY_LOG returns 0 on a clean slot (the RFC says 1) without switching. */
    static DirtyLogBackend switchZeroOnClean(DirtyLogBackend correct) {
        return new ForwardingBackend("switch-zero-on-clean", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> switchDirtyLog(int slot) {
                        IoctlResult<Integer> r = delegate.switchDirtyLog(slot);
                        return r.isOk() && r.value() == 1 ? IoctlResult.ok(0) : r;
                    }
                };
            }
        };
    }

    /** KVM_SWITCH_DIRTY_LOG returns -EINVAL where the RFC says -ENOENT. */
    static DirtyLogBackend switchEnoentAsEinval(DirtyLogBackend correct) {
        return new ForwardingBackend("switch-enoent-as-einval", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> switchDirtyLog(int slot) {
                        IoctlResult<Integer> r = delegate.switchDirtyLog(slot);
                        return Errno.ENOENT.equals(r.errnoOrNull()) ? IoctlResult.err(Errno.EINVAL) : r;
                    }
                };
            }
        };
    }

    /** KVM_GET_USER_DIRTY_LOG_ADDR reads its argument without checking it: a bad pointer gives -ENOENT. */
    static DirtyLogBackend userAddrNoFault(DirtyLogBackend correct) {
        return new ForwardingBackend("user-addr-no-efault", correct) {
            @Override
            Vm wrap(BackendVm vm) {
                return new Vm(vm) {
                    @Override
                    public IoctlResult<Integer> getUserDirtyLogAddr(long argp) {
                        if (!delegate.accessUser(argp, KvmApi.USER_DIRTY_LOG_SIZE).isOk()) {
                            return IoctlResult.err(Errno.ENOENT);
                        }
                        return delegate.getUserDirtyLogAddr(argp);
                    }
                };
            }
        };
    }
}
