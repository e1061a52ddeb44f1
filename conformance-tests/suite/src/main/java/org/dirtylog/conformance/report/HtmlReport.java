package org.dirtylog.conformance.report;

import java.util.List;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Capability;

/** Renders {@code index.html}: a certificate for a person, and the index over several backends. */
public final class HtmlReport {

    private static final String STYLE = """
            body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
            th{background:#f4f4f4}.PASS{background:#dff0d8}.FAIL{background:#f2dede}.ERROR{background:#fcd9b6}
            .NOT_APPLICABLE{background:#eee;color:#555}.big{font-size:1.4em;font-weight:bold}code{font-size:.95em}
            details{margin:.5em 0 1.5em 0}""";

    private HtmlReport() {
    }

    /** Returns the page of one certificate. */
    public static String render(Certificate c) {
        StringBuilder h = head("DirtyLog Kit certificate: " + c.backend());
        h.append("<h1>").append(esc(c.backend())).append("</h1>\n<p>").append(esc(c.description())).append("</p>\n");
        h.append("<p class=\"big ").append(c.certified() ? "PASS" : "FAIL").append("\">")
                .append(c.certified() ? "CERTIFIED" : "NOT CERTIFIED").append("</p>\n<p>").append(esc(c.reason())).append("</p>\n");
        h.append("<table>\n");
        row(h, "Seed", c.seed() + " (reproduce: <code>./dirtylog certify --backend " + esc(c.backend()) + " --seed " + c.seed()
                + "</code>)");
        row(h, "Kit version", esc(c.kitVersion()));
        row(h, "Started", esc(c.started().toString()));
        row(h, "Duration", String.format(Locale.ROOT, "%.1f s", c.seconds()));
        row(h, "JDK", esc(c.environment().jdk()));
        row(h, "OS", esc(c.environment().os()) + ", " + c.environment().cpus() + " CPUs");
        row(h, "Kernel", esc(c.environment().kernel()));
        StringBuilder caps = new StringBuilder();
        for (Capability f : Capability.values()) {
            if (c.capabilities().has(f)) {
                caps.append(caps.isEmpty() ? "" : ", ").append(f.label());
            }
        }
        row(h, "Capabilities", esc(caps.toString()) + "; KVM_CAP_USER_DIRTY_LOG generation "
                + c.capabilities().userDirtyLogGeneration() + "; " + c.capabilities().maxVcpus() + " vCPUs");
        StringBuilder summary = new StringBuilder();
        c.summary().forEach((v, n) -> summary.append(summary.isEmpty() ? "" : ", ").append(n).append(' ').append(v));
        row(h, "Summary", summary.toString());
        h.append("</table>\n<h2>Rules</h2>\n<table>\n<tr><th>Rule</th><th>Level</th><th>Verdict</th><th>Statement</th>"
                + "<th>Source</th><th>Message</th><th>s</th></tr>\n");
        for (RuleResult r : c.results()) {
            h.append("<tr class=\"").append(r.verdict()).append("\"><td>");
            boolean detailed = r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR;
            h.append(detailed ? "<a href=\"#" + r.rule().id() + "\">" + r.rule().id() + "</a>" : r.rule().id());
            h.append("</td><td>").append(r.rule().level()).append("</td><td>").append(r.verdict()).append("</td><td>")
                    .append(esc(r.rule().statement())).append("</td><td>").append(esc(r.rule().source())).append("</td><td>")
                    .append(esc(r.message())).append(String.format(Locale.ROOT, "</td><td>%.2f</td></tr>%n", r.seconds()));
        }
        h.append("</table>\n");
        if (!c.mustRulesNotRun().isEmpty()) {
            h.append("<p>MUST rules that did not run (deselected): ").append(esc(String.join(", ", c.mustRulesNotRun())))
                    .append("</p>\n");
        }
        for (RuleResult r : c.results()) {
            if (r.verdict() != Verdict.FAIL && r.verdict() != Verdict.ERROR) {
                continue;
            }
            h.append("<h2 id=\"").append(r.rule().id()).append("\">").append(r.rule().id()).append(' ').append(r.verdict())
                    .append("</h2>\n<p>").append(esc(r.rule().statement())).append(" <i>(").append(esc(r.rule().source()))
                    .append(")</i></p>\n");
            if (r.verdict() == Verdict.FAIL) {
                h.append("<table><tr><th>Expected</th><td>").append(esc(r.expected())).append("</td></tr><tr><th>Actual</th><td>")
                        .append(esc(r.actual())).append("</td></tr></table>\n");
            } else {
                h.append("<p>").append(esc(r.message())).append("</p>\n");
            }
            h.append("<p>Scenario, as run with seed ").append(c.seed()).append(":</p>\n");
            steps(h, r.scenario());
        }
        return h.append("</body></html>\n").toString();
    }

    /** Returns the index page over several certificates; {@code dirs} are their sub-directories. */
    public static String renderIndex(List<Certificate> certificates, List<String> dirs) {
        StringBuilder h = head("DirtyLog Kit certification");
        h.append("<h1>DirtyLog Kit certification</h1>\n<table>\n<tr><th>Backend</th><th>Result</th><th>PASS</th><th>FAIL</th>"
                + "<th>NOT_APPLICABLE</th><th>ERROR</th><th>Seed</th><th>s</th></tr>\n");
        for (int i = 0; i < certificates.size(); i++) {
            Certificate c = certificates.get(i);
            var s = c.summary();
            h.append("<tr class=\"").append(c.certified() ? "PASS" : "FAIL").append("\"><td><a href=\"").append(esc(dirs.get(i)))
                    .append("/index.html\">").append(esc(c.backend())).append("</a></td><td>")
                    .append(c.certified() ? "certified" : "not certified").append("</td><td>").append(s.get(Verdict.PASS))
                    .append("</td><td>").append(s.get(Verdict.FAIL)).append("</td><td>").append(s.get(Verdict.NOT_APPLICABLE))
                    .append("</td><td>").append(s.get(Verdict.ERROR)).append("</td><td>").append(c.seed())
                    .append(String.format(Locale.ROOT, "</td><td>%.1f</td></tr>%n", c.seconds()));
        }
        h.append("</table>\n");
        if (!certificates.isEmpty()) {
            Certificate c = certificates.get(0);
            h.append("<p>Kit ").append(esc(c.kitVersion())).append(", JDK ").append(esc(c.environment().jdk())).append(", ")
                    .append(esc(c.environment().os())).append(", kernel ").append(esc(c.environment().kernel())).append("</p>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    private static void steps(StringBuilder h, List<Step> steps) {
        h.append("<table><tr><th>#</th><th>Actor</th><th>Call</th><th>Result</th></tr>\n");
        int i = 1;
        for (Step s : steps) {
            h.append("<tr><td>").append(i++).append("</td><td>").append(esc(s.actor())).append("</td><td><code>")
                    .append(esc(s.call())).append("</code></td><td><code>").append(esc(s.result())).append("</code></td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title><style>").append(STYLE).append("</style></head><body>\n");
    }

    private static void row(StringBuilder h, String name, String html) {
        h.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>\n");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
