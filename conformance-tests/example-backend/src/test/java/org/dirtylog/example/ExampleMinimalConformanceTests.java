package org.dirtylog.example;

import org.dirtylog.conformance.junit.DirtyLogConformance;

/**
 * Certifies {@code example-minimal} in this module's own build, the way a third party would:
 * one JUnit test per rule of the catalogue, the backend named by {@code dirtylog.backend} in
 * {@code src/test/resources/junit-platform.properties}.
 */
class ExampleMinimalConformanceTests extends DirtyLogConformance {
}
