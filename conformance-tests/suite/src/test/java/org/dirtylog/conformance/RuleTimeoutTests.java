package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.dirtylog.spi.Availability;
import org.dirtylog.spi.BackendVm;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.DirtyLogBackend;
import org.dirtylog.spi.IoctlResult;
import org.dirtylog.spi.KvmApi;
import org.junit.jupiter.api.Test;

/**
 * A rule's timeout says when it is hung, not how slow a machine may be: a rule whose calls keep
 * returning runs past its timeout (a loaded CI machine slows a rule's fixed work; it once turned
 * RING-13 into an ERROR at 40 s), a rule whose call never returns is an ERROR one timeout after
 * its last returned call, and a rule that keeps returning calls for ever is stopped at
 * {@link RunOptions#PROGRESS_TIMEOUTS} timeouts.
 */
class RuleTimeoutTests {

    private static final Duration TIMEOUT = Duration.ofMillis(500);

    /** A backend whose VMs answer KVM_CHECK_EXTENSION with {@code answer.apply(n)} for the n-th call (from 1). */
    private static DirtyLogBackend backend(java.util.function.LongFunction<IoctlResult<Integer>> answer) {
        AtomicLong calls = new AtomicLong();
        BackendVm vm = (BackendVm) Proxy.newProxyInstance(BackendVm.class.getClassLoader(), new Class<?>[] {BackendVm.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "checkExtension" -> answer.apply(calls.incrementAndGet());
                    case "close" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return new DirtyLogBackend() {
            @Override
            public String name() {
                return "timeouts";
            }

            @Override
            public String description() {
                return "test backend for rule timeouts";
            }

            @Override
            public Availability availability() {
                return Availability.AVAILABLE;
            }

            @Override
            public Capabilities capabilities() {
                return new Capabilities(Set.of(), 0, 1, 0, 1L << 32);
            }

            @Override
            public IoctlResult<BackendVm> createVm() {
                return IoctlResult.ok(vm);
            }
        };
    }

    private static RuleResult run(DirtyLogBackend backend, Rule.Check check) {
        Rule rule = new Rule("TEST-01", "test", "test", Level.MUST, Set.of(), 1, TIMEOUT, check);
        ConformanceRunner runner = new ConformanceRunner(RunOptions.withSeed(1),
                new PrintStream(OutputStream.nullOutputStream()));
        return runner.run(backend, rule);
    }

    @Test
    void aRuleWhoseCallsKeepReturningRunsPastItsTimeout() {
        // The backend says "go on" (1) until the rule has run for three timeouts by its own clock.
        AtomicLong firstCall = new AtomicLong();
        DirtyLogBackend slow = backend(n -> {
            long now = System.nanoTime();
            firstCall.compareAndSet(0, now);
            return IoctlResult.ok(now - firstCall.get() < 3 * TIMEOUT.toNanos() ? 1 : 0);
        });
        RuleResult r = run(slow, s -> {
            while (s.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS").value() == 1) {
                Thread.onSpinWait();
            }
        });
        assertEquals(Verdict.PASS, r.verdict(), r.message());
    }

    @Test
    void aCallThatNeverReturnsIsAnErrorOneTimeoutAfterTheLastReturnedCall() {
        CountDownLatch never = new CountDownLatch(1);
        DirtyLogBackend hangs = backend(n -> {
            if (n == 3) {
                try {
                    never.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return IoctlResult.ok(0);
        });
        RuleResult r = run(hangs, s -> {
            for (int i = 0; i < 3; i++) {
                s.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS");
            }
        });
        assertEquals(Verdict.ERROR, r.verdict(), r.message());
        assertTrue(r.message().startsWith("timed out after 0.5 s"), r.message());
        assertTrue(r.message().contains("the backend did not return"), r.message());
    }

    @Test
    void aRuleThatNeverEndsIsStoppedAtItsLongestRun() {
        RuleResult r = run(backend(n -> IoctlResult.ok(1)), s -> {
            while (true) {
                s.checkExtension(KvmApi.KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS");
            }
        });
        assertEquals(Verdict.ERROR, r.verdict(), r.message());
        assertTrue(r.message().startsWith("still running after "), r.message());
        assertTrue(r.message().contains(RunOptions.PROGRESS_TIMEOUTS + " times its timeout of 0.5 s"), r.message());
    }
}
