package org.dirtylog.defects;

import java.util.function.UnaryOperator;
import org.dirtylog.kvm.ReferenceBackend;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;

/**
 * A correct reference backend whose every VM is wrapped by a defect at the ioctl boundary (where
 * the bug lives: an argument check or a copy of the ioctl, not the core). Declares what the
 * correct backend declares.
 */
final class WrappedVmBackend implements DirtyLogBackend {

    private final ReferenceBackend correct;
    private final String name;
    private final String defect;
    private final UnaryOperator<BackendVm> wrap;

    WrappedVmBackend(ReferenceBackend correct, String name, String defect, UnaryOperator<BackendVm> wrap) {
        this.correct = correct;
        this.name = name;
        this.defect = defect;
        this.wrap = wrap;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return correct.description() + "; " + defect + " (self-test fixture)";
    }

    @Override
    public Availability availability() {
        return correct.availability();
    }

    @Override
    public Capabilities capabilities() {
        return correct.capabilities();
    }

    @Override
    public IoctlResult<BackendVm> createVm() {
        return correct.createVm().map(wrap);
    }
}
