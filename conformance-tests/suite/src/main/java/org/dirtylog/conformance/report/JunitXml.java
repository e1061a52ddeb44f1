package org.dirtylog.conformance.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Step;

/**
 * Writes {@code junit.xml} in the Ant/Surefire format CI servers read: one testcase per rule,
 * FAIL as {@code <failure>}, ERROR as {@code <error>}, NOT_APPLICABLE as {@code <skipped>}.
 */
public final class JunitXml {

    private JunitXml() {
    }

    /** Returns the XML text for {@code c}. */
    public static String render(Certificate c) {
        var counts = c.summary();
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append(String.format(Locale.ROOT,
                "<testsuite name=\"dirtylog-certify.%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
                        + "time=\"%.3f\" timestamp=\"%s\">%n",
                esc(c.backend()), c.results().size(), counts.get(org.dirtylog.conformance.Verdict.FAIL),
                counts.get(org.dirtylog.conformance.Verdict.ERROR),
                counts.get(org.dirtylog.conformance.Verdict.NOT_APPLICABLE), c.seconds(), c.started()));
        x.append("  <properties>\n");
        prop(x, "backend", c.backend());
        prop(x, "seed", String.valueOf(c.seed()));
        prop(x, "kit_version", c.kitVersion());
        prop(x, "certified", String.valueOf(c.certified()));
        prop(x, "jdk", c.environment().jdk());
        prop(x, "kernel", c.environment().kernel());
        x.append("  </properties>\n");
        for (RuleResult r : c.results()) {
            x.append(String.format(Locale.ROOT, "  <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                    esc("dirtylog." + c.backend()), esc(r.rule().id() + " " + r.rule().statement()), r.seconds()));
            switch (r.verdict()) {
                case PASS -> x.append("/>\n");
                case NOT_APPLICABLE -> x.append(">\n    <skipped message=\"").append(esc(r.message())).append("\"/>\n  </testcase>\n");
                case FAIL, ERROR -> {
                    String tag = r.verdict() == org.dirtylog.conformance.Verdict.FAIL ? "failure" : "error";
                    x.append(">\n    <").append(tag).append(" message=\"").append(esc(r.message())).append("\">");
                    StringBuilder body = new StringBuilder("scenario (seed " + c.seed() + "):\n");
                    int i = 1;
                    for (Step s : r.scenario()) {
                        body.append(i++).append(". ").append(s.actor()).append(": ").append(s.call())
                                .append(s.result().isEmpty() ? "" : " -> " + s.result()).append('\n');
                    }
                    x.append(esc(body.toString())).append("</").append(tag).append(">\n  </testcase>\n");
                }
            }
        }
        x.append("</testsuite>\n");
        return x.toString();
    }

    /** Writes the XML for {@code c} to {@code file}. */
    public static void write(Certificate c, Path file) throws IOException {
        Files.writeString(file, render(c), StandardCharsets.UTF_8);
    }

    private static void prop(StringBuilder x, String name, String value) {
        x.append("    <property name=\"").append(esc(name)).append("\" value=\"").append(esc(value)).append("\"/>\n");
    }

    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    if (ch < 0x20 && ch != '\n' && ch != '\t') {
                        out.append(' ');
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.toString();
    }
}
