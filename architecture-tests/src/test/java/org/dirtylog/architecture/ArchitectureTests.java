package org.dirtylog.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Keeps the dependency direction of the kit: SPI <- reference core <- architecture adapters,
 * SPI <- conformance suite; the generic core never asks "which arch am I"; test fixtures are
 * used by tests only (they are test sources, which Maven keeps off main classpaths; the rule
 * catches a module that declares their test-jar in compile scope). Runs over the main classes
 * of every module ({@link MainCodeOnly}).
 */
@AnalyzeClasses(packages = "org.dirtylog", importOptions = MainCodeOnly.class)
class ArchitectureTests {

    @ArchTest
    static final ArchRule the_spi_depends_on_nothing_else_of_the_kit =
            noClasses().that().resideInAPackage("org.dirtylog.spi..")
                    .should().dependOnClassesThat().resideInAnyPackage(
                            "org.dirtylog.kvm..", "org.dirtylog.arch..", "org.dirtylog.defects..",
                            "org.dirtylog.conformance..", "org.dirtylog.spec..", "org.dirtylog.cli..",
                            "org.dirtylog.bench..");

    @ArchTest
    static final ArchRule the_generic_core_never_depends_on_an_architecture_adapter =
            noClasses().that().resideInAPackage("org.dirtylog.kvm..")
                    .should().dependOnClassesThat().resideInAnyPackage(
                            "org.dirtylog.arch..", "org.dirtylog.defects..", "org.dirtylog.conformance..",
                            "org.dirtylog.spec..", "org.dirtylog.cli..");

    @ArchTest
    static final ArchRule adapters_never_depend_on_each_other =
            slices().matching("org.dirtylog.arch.(*)..")
                    .should().notDependOnEachOther();

    @ArchTest
    static final ArchRule no_main_code_depends_on_the_test_fixtures =
            noClasses().that().resideOutsideOfPackage("org.dirtylog.defects..")
                    .should().dependOnClassesThat().resideInAPackage("org.dirtylog.defects..");

    @ArchTest
    static final ArchRule the_suite_knows_backends_only_through_the_spi =
            noClasses().that().resideInAPackage("org.dirtylog.conformance..")
                    .should().dependOnClassesThat().resideInAnyPackage(
                            "org.dirtylog.kvm..", "org.dirtylog.arch..", "org.dirtylog.defects..", "org.dirtylog.cli..");

    @ArchTest
    static final ArchRule the_specification_runner_stands_alone =
            noClasses().that().resideInAPackage("org.dirtylog.spec..")
                    .should().dependOnClassesThat().resideInAnyPackage(
                            "org.dirtylog.kvm..", "org.dirtylog.arch..", "org.dirtylog.conformance..",
                            "org.dirtylog.cli..");

    @ArchTest
    static final ArchRule packages_are_free_of_cycles =
            slices().matching("org.dirtylog.(**)").should().beFreeOfCycles();
}
