package org.dirtylog.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dirtylog.conformance.Rule;
import org.dirtylog.conformance.RuleCatalogue;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The JUnit route ({@code DirtyLogConformance}) as a third party's build runs it: one test per rule
 * named {@code ID statement}, and a last test {@code certified: <backend>} that fails unless the
 * backend is certified, so a partial or failing run never ends in a green build.
 */
class JunitRouteTests {

    /** What a launcher run reported: each test's status by display name, and the failures of containers. */
    private record Outcome(Map<String, TestExecutionResult> tests, List<String> failedContainers) {
        TestExecutionResult test(String name) {
            TestExecutionResult r = tests.get(name);
            assertTrue(r != null, () -> "no test named '" + name + "' in " + tests.keySet());
            return r;
        }
    }

    private static Outcome run(Map<String, String> parameters) {
        return run(RouteFixture.class, parameters);
    }

    private static Outcome run(Class<?> fixture, Map<String, String> parameters) {
        Map<String, TestExecutionResult> tests = new LinkedHashMap<>();
        List<String> failedContainers = new ArrayList<>();
        var request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(fixture))
                .configurationParameters(parameters).build();
        LauncherFactory.create().execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    tests.put(id.getDisplayName(), result);
                } else if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                    failedContainers.add(id.getDisplayName() + ": " + result.getThrowable().map(Throwable::getMessage).orElse(""));
                }
            }
        });
        return new Outcome(tests, failedContainers);
    }

    private static String message(TestExecutionResult r) {
        return r.getThrowable().map(Throwable::getMessage).orElse("");
    }

    @Test
    void theWholeCatalogueOfACorrectBackendEndsInAPassingCertifiedTest() {
        Outcome o = run(Map.of("dirtylog.backend", "example-minimal", "dirtylog.seed", "42"));
        List<String> expected = new ArrayList<>(RuleCatalogue.rules().stream().map(r -> r.id() + " " + r.statement()).toList());
        expected.add("certified: example-minimal");
        assertEquals(expected, List.copyOf(o.tests().keySet()), "display names are ID statement, in catalogue order");
        TestExecutionResult certified = o.test("certified: example-minimal");
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, certified.getStatus(), () -> message(certified));
        assertEquals(List.of(), o.failedContainers());
    }

    @Test
    void aRuleSubsetFailsTheCertifiedTest() {
        Outcome o = run(Map.of("dirtylog.backend", "example-minimal", "dirtylog.seed", "42", "dirtylog.rules", "GET-*"));
        Rule get01 = RuleCatalogue.byId("GET-01").orElseThrow();
        assertEquals(TestExecutionResult.Status.SUCCESSFUL, o.test(get01.id() + " " + get01.statement()).getStatus());
        TestExecutionResult certified = o.test("certified: example-minimal");
        assertEquals(TestExecutionResult.Status.FAILED, certified.getStatus());
        assertTrue(message(certified).contains("not certified: partial run: 7 of " + RuleCatalogue.rules().size() + " rules"),
                message(certified));
    }

    @Test
    void aFailingRuleFailsTheCertifiedTestToo() {
        Outcome o = run(BrokenRouteFixture.class, Map.of("dirtylog.seed", "42"));
        TestExecutionResult certified = o.test("certified: enoent-as-einval");
        assertEquals(TestExecutionResult.Status.FAILED, certified.getStatus());
        assertTrue(message(certified).contains("GET-05 FAIL"), message(certified));
    }

    @Test
    void aPatternMatchingNoRuleFails() {
        Outcome o = run(Map.of("dirtylog.backend", "example-minimal", "dirtylog.rules", "NOPE-*"));
        assertEquals(Map.of(), o.tests());
        assertEquals(1, o.failedContainers().size(), o.failedContainers()::toString);
        assertTrue(o.failedContainers().get(0).contains("dirtylog.rules=NOPE-* matches no rule of the catalogue"),
                o.failedContainers()::toString);
    }
}
