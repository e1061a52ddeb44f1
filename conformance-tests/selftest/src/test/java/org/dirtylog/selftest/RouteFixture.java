package org.dirtylog.selftest;

import org.dirtylog.conformance.junit.DirtyLogConformance;

/**
 * A third party's test class for the JUnit route, run by {@link JunitRouteTests} through the
 * JUnit Platform launcher (its name keeps Surefire from running it on its own).
 */
public class RouteFixture extends DirtyLogConformance {
}
