package org.dirtylog.independent;

import org.dirtylog.conformance.junit.DirtyLogConformance;

/**
 * Certifies {@code independent} in this module's own build through the suite's JUnit route,
 * as a third party would: one test per rule. The backend is named in
 * {@code junit-platform.properties}; the pom runs this class once per seed (1 to 5).
 */
class IndependentConformanceTests extends DirtyLogConformance {
}
