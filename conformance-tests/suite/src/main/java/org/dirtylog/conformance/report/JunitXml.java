package org.dirtylog.conformance.report;

import static org.dirtylog.conformance.report.Text.xml;

import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;

/**
 * Renders {@code junit.xml} in the Ant/Surefire format CI servers read: one testcase per rule,
 * FAIL as {@code <failure>} (a SHOULD rule's FAIL, which certifies, as {@code <skipped>} with a
 * warning), ERROR as {@code <error>}, NOT_APPLICABLE as {@code <skipped>}, and a
 * last testcase {@code certified: <backend>} that fails when the backend is not certified, so a
 * partial or weakened run is visible on a dashboard that only counts failures.
 */
public final class JunitXml {

    private JunitXml() {
    }

    /** Returns the name of the testcase that carries the certification verdict of {@code backend}. */
    public static String certifiedTestName(String backend) {
        return "certified: " + backend;
    }

    /** Returns the XML text for {@code c}. */
    public static String render(Certificate c) {
        var counts = c.summary();
        boolean certified = c.certified();
        // A SHOULD rule that failed certifies: skipped with a warning, so a dashboard that counts
        // failures agrees with the certificate, and the message says what was not met.
        int warnings = c.warnings().size();
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append(String.format(Locale.ROOT,
                "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
                        + "time=\"%.3f\" timestamp=\"%s\">%n",
                xml("dirtylog-certify." + c.backend()), c.results().size() + 1,
                counts.get(Verdict.FAIL) - warnings + (certified ? 0 : 1), counts.get(Verdict.ERROR),
                counts.get(Verdict.NOT_APPLICABLE) + warnings, c.seconds(), c.started()));
        x.append("  <properties>\n");
        prop(x, "backend", c.backend());
        prop(x, "seed", Long.toString(c.seed()));
        prop(x, "effort", Certificate.effortText(c.options().effort()));
        prop(x, "rules", c.options().rules().orElse("*"));
        prop(x, "backend_jars", String.join(" ", c.backendJars()));
        prop(x, "kit_version", c.kitVersion());
        prop(x, "certified", String.valueOf(certified));
        prop(x, "reason", c.reason());
        prop(x, "jdk", c.environment().jdk());
        prop(x, "kernel", c.environment().kernel());
        x.append("  </properties>\n");
        String classname = xml("dirtylog." + c.backend());
        for (RuleResult r : c.results()) {
            x.append(String.format(Locale.ROOT, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                    classname, xml(r.rule().id() + " " + r.rule().statement()), r.seconds()));
            if (Certificate.isWarning(r)) {
                x.append(">\n    <skipped message=\"").append(xml("warning: SHOULD not met: " + r.message()))
                        .append("\"/>\n  </testcase>\n");
                continue;
            }
            switch (r.verdict()) {
                case PASS -> x.append("/>\n");
                case NOT_APPLICABLE -> x.append(">\n    <skipped message=\"").append(xml(r.message()))
                        .append("\"/>\n  </testcase>\n");
                case FAIL, ERROR -> {
                    String tag = r.verdict() == Verdict.FAIL ? "failure" : "error";
                    x.append(">\n    <").append(tag).append(" message=\"").append(xml(r.message())).append("\">");
                    StringBuilder body = new StringBuilder("scenario (seed " + c.seed() + "):\n");
                    int i = 1;
                    for (Step s : r.scenario()) {
                        body.append(i++).append(". ").append(s.actor()).append(": ").append(s.call())
                                .append(s.result().isEmpty() ? "" : " -> " + s.result()).append('\n');
                    }
                    x.append(xml(body.toString())).append("</").append(tag).append(">\n  </testcase>\n");
                }
            }
        }
        x.append(String.format(Locale.ROOT, "  <testcase classname=\"%s\" name=\"%s\" time=\"0\"", classname,
                xml(certifiedTestName(c.backend()))));
        if (certified) {
            x.append("/>\n");
        } else {
            x.append(">\n    <failure message=\"").append(xml(c.reason())).append("\"/>\n  </testcase>\n");
        }
        x.append("</testsuite>\n");
        return x.toString();
    }

    private static void prop(StringBuilder x, String name, String value) {
        x.append("    <property name=\"").append(xml(name)).append("\" value=\"").append(xml(value)).append("\"/>\n");
    }
}
