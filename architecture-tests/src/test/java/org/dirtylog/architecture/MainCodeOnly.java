package org.dirtylog.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;

/**
 * The main classes of every module: neither a module's {@code target/test-classes} nor a
 * {@code -tests.jar}. The test fixtures of {@code arch-adapters/defects} reach this module as a
 * test-jar in a packaged build and as a test-classes folder in an unpackaged one; either way
 * they are test code, so the rules see the same classes in both.
 */
public final class MainCodeOnly implements ImportOption {

    private static final ImportOption NO_TEST_FOLDERS = new ImportOption.DoNotIncludeTests();

    @Override
    public boolean includes(Location location) {
        return NO_TEST_FOLDERS.includes(location) && !location.contains("-tests.jar");
    }
}
