package org.dirtylog.conformance.junit;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.ConformanceRunner;
import org.dirtylog.conformance.Environment;
import org.dirtylog.conformance.KitVersion;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.report.JunitXml;
import org.dirtylog.spi.DirtyLogBackend;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.opentest4j.TestAbortedException;

/**
 * The rule catalogue as JUnit dynamic tests, for a third party's own build: extend this class
 * in a test class (e.g. {@code class MyBackendConformanceTests extends DirtyLogConformance {}})
 * and name the backend with the configuration parameter or system property
 * {@value #BACKEND_PROPERTY} (in {@code junit-platform.properties} or surefire's
 * {@code systemPropertyVariables}). Each rule becomes one test with the CLI's verdict: PASS
 * passes, FAIL and ERROR fail with the message and the scenario (a SHOULD rule's FAIL, which
 * certifies, is skipped with a warning), NOT_APPLICABLE is skipped
 * (aborted) with its reason. A last test, {@code certified: <backend>}, fails unless the
 * backend is certified, as the CLI's verdict would say. {@value #SEED_PROPERTY} and
 * {@value #RULES_PROPERTY} work like {@code --seed} and {@code --rules} (a subset is never
 * certified; a pattern matching no rule fails).
 *
 * <p>A subclass may instead override {@link #backend(Settings)} to construct the backend itself.
 */
@ExtendWith(DirtyLogConformance.SettingsResolver.class)
public abstract class DirtyLogConformance {

    /** Names the backend to certify, as {@code --backend} does. */
    public static final String BACKEND_PROPERTY = "dirtylog.backend";
    /** Seed of the run, as {@code --seed}; random when absent (the seed is in every failure message). */
    public static final String SEED_PROPERTY = "dirtylog.seed";
    /** Rule pattern, as {@code --rules}. */
    public static final String RULES_PROPERTY = "dirtylog.rules";

    /**
     * Returns the backend under test: by default the one named {@value #BACKEND_PROPERTY} among
     * those {@link ServiceLoader} finds on the test class path.
     */
    protected DirtyLogBackend backend(Settings settings) {
        String name = settings.get(BACKEND_PROPERTY).orElseThrow(() -> new IllegalStateException(
                "set the JUnit configuration parameter or system property " + BACKEND_PROPERTY + " to a backend name"));
        List<DirtyLogBackend> all = ServiceLoader.load(DirtyLogBackend.class, getClass().getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList();
        return all.stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow(() -> new IllegalStateException(
                "no backend named '" + name + "' on the test class path (found: "
                        + all.stream().map(DirtyLogBackend::name).collect(Collectors.joining(", ")) + ")"));
    }

    /**
     * Returns one dynamic test per selected rule of the catalogue, named {@code ID statement},
     * and a last test named {@code certified: <backend>} that fails unless the backend is
     * certified: every rule of the catalogue ran (no {@value #RULES_PROPERTY} subset) and none is
     * FAIL or ERROR. A pattern that selects no rule fails the factory itself. Surefire, told to
     * use display names ({@code usePhrasedTestCaseMethodName}), reports them prefixed with this
     * factory's name: {@code dirtylog GET-01 ...}, {@code dirtylog certified: my-backend}.
     */
    @TestFactory
    @DisplayName("dirtylog")
    Stream<DynamicTest> rules(Settings settings) {
        DirtyLogBackend backend = backend(settings);
        long seed = settings.get(SEED_PROPERTY).map(DirtyLogConformance::seed).orElseGet(() -> new SecureRandom().nextLong());
        RunOptions options = RunOptions.withSeed(seed);
        Optional<String> pattern = settings.get(RULES_PROPERTY);
        if (pattern.isPresent()) {
            options = options.withRules(pattern.get());
        }
        ConformanceRunner runner = new ConformanceRunner(options, System.out);
        List<Rule> selected = runner.selectedRules();
        if (selected.isEmpty()) {
            throw new IllegalArgumentException(RULES_PROPERTY + "=" + pattern.orElse("") + " matches no rule of the "
                    + "catalogue, so nothing would be checked");
        }
        Assumptions.assumeTrue(backend.availability().available(),
                () -> backend.name() + " is not available here: " + backend.availability().reason());
        RunOptions runOptions = options;
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        List<RuleResult> results = Collections.synchronizedList(new ArrayList<>());
        Stream<DynamicTest> ruleTests = selected.stream().map(rule -> DynamicTest.dynamicTest(rule.id() + " " + rule.statement(),
                () -> {
                    RuleResult r = runner.run(backend, rule);
                    results.add(r);
                    switch (r.verdict()) {
                        case PASS -> {
                        }
                        case NOT_APPLICABLE -> throw new TestAbortedException(rule.id() + " not applicable: " + r.message());
                        case FAIL, ERROR -> {
                            if (Certificate.isWarning(r)) {
                                // A SHOULD not met certifies, as in the CLI: reported, not failed.
                                throw new TestAbortedException(rule.id() + " warning: SHOULD not met (seed " + seed + "): "
                                        + r.message());
                            }
                            Assertions.fail(rule.id() + " " + r.verdict() + " (seed " + seed + "): "
                                    + r.message() + scenario(r.scenario()));
                        }
                    }
                }));
        DynamicTest certified = DynamicTest.dynamicTest(JunitXml.certifiedTestName(backend.name()), () -> {
            Certificate c = new Certificate(backend.name(), backend.description(), Optional.of(backend.capabilities()),
                    KitVersion.get(), runOptions, List.of(), started, (System.nanoTime() - t0) / 1e9, List.copyOf(results),
                    Optional.empty(), Environment.current());
            if (!c.certified()) {
                Assertions.fail(backend.name() + " " + c.reason() + " (seed " + seed + ")");
            }
        });
        return Stream.concat(ruleTests, Stream.of(certified));
    }

    private static long seed(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(SEED_PROPERTY + " needs a signed 64-bit decimal integer, not '" + value + "'");
        }
    }

    private static String scenario(List<Step> steps) {
        StringBuilder b = new StringBuilder("\nscenario:");
        int i = 1;
        for (Step s : steps) {
            b.append("\n  ").append(i++).append(". ").append(s.actor()).append(": ").append(s.call())
                    .append(s.result().isEmpty() ? "" : " -> " + s.result());
        }
        return b.toString();
    }

    /**
     * The run's settings: JUnit configuration parameters, which JUnit looks up in the launcher
     * request, then system properties, then {@code junit-platform.properties}.
     */
    public record Settings(ExtensionContext context) {
        /** Returns the non-blank value of {@code key}, if set. */
        public Optional<String> get(String key) {
            return context.getConfigurationParameter(key).map(String::trim).filter(v -> !v.isEmpty());
        }
    }

    /** Resolves {@link Settings} parameters from the extension context. */
    static final class SettingsResolver implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == Settings.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return new Settings(context);
        }
    }
}
