/**
 * {@code independent}: a second emulated dirty-logging backend, written only against the SPI
 * with a design unlike the kit's reference implementation, and its deliberately broken
 * variants ({@link org.dirtylog.independent.IndependentBackends}), with which the self-test
 * measures whether the race rules catch racy backends they have never seen. See this module's
 * README.md.
 */
package org.dirtylog.independent;
