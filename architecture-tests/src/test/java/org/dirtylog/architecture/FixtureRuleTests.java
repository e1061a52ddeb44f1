package org.dirtylog.architecture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import org.dirtylog.defects.Defect;
import org.junit.jupiter.api.Test;

/** The rules run over main code only, fixtures excluded, and the fixture rule fails on a main class that uses one. */
class FixtureRuleTests {

    /** Stands for main code that builds a broken backend. */
    static final class MainCodeUsingAFixture {
        Object backend() {
            return Defect.NO_GRACE_PERIOD;
        }
    }

    @Test
    void theMainCodeOfEveryModuleIsImportedAndTheFixturesAreNot() {
        JavaClasses main = new ClassFileImporter().withImportOption(new MainCodeOnly()).importPackages("org.dirtylog");
        for (String pkg : new String[] {"org.dirtylog.spi", "org.dirtylog.kvm", "org.dirtylog.arch.x86", "org.dirtylog.arch.ppc",
            "org.dirtylog.arch.ia64", "org.dirtylog.arch.linuxkvm", "org.dirtylog.conformance",
            "org.dirtylog.spec", "org.dirtylog.cli", "org.dirtylog.example", "org.dirtylog.bench"}) {
            assertTrue(main.containPackage(pkg), pkg + " was not imported");
        }
        // The fixtures are test sources (the defects module's test-jar): not main code, whichever form
        // (jar or test-classes folder) the reactor hands this module.
        assertFalse(main.containPackage("org.dirtylog.defects"), "a fixture class was imported as main code");
    }

    @Test
    void aClassOutsideTheFixturesThatUsesOneIsAViolation() {
        JavaClasses classes = new ClassFileImporter().importClasses(MainCodeUsingAFixture.class, Defect.class);
        assertTrue(ArchitectureTests.no_main_code_depends_on_the_test_fixtures.evaluate(classes).hasViolation());
        assertFalse(ArchitectureTests.no_main_code_depends_on_the_test_fixtures
                .evaluate(new ClassFileImporter().importClasses(ArchitectureTests.class, Defect.class)).hasViolation());
    }
}
