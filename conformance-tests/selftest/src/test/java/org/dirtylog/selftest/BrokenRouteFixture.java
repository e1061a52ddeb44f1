package org.dirtylog.selftest;

import org.dirtylog.conformance.junit.DirtyLogConformance;
import org.dirtylog.example.MinimalBackend;
import org.dirtylog.spi.DirtyLogBackend;

/** The JUnit route on a backend that answers -EINVAL for -ENOENT, run by {@link JunitRouteTests}. */
public class BrokenRouteFixture extends DirtyLogConformance {

    @Override
    protected DirtyLogBackend backend(Settings settings) {
        return BrokenBackends.enoentAsEinval(new MinimalBackend());
    }
}
