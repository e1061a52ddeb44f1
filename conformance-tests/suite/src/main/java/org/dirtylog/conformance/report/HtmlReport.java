package org.dirtylog.conformance.report;

import static org.dirtylog.conformance.report.Text.html;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.RunOptions;
import org.dirtylog.conformance.Step;
import org.dirtylog.conformance.TraceCheck;
import org.dirtylog.conformance.Verdict;
import org.dirtylog.spi.Capabilities;
import org.dirtylog.spi.Capability;

/**
 * Renders {@code index.html}: a certificate for a person, and the index over several backends.
 * The first line of each page's body is the verdict and, when not certified, why.
 */
public final class HtmlReport {

    private static final String STYLE = """
            body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
            th{background:#f4f4f4}.PASS{background:#dff0d8}.FAIL{background:#f2dede}.ERROR{background:#fcd9b6}
            .NOT_APPLICABLE{background:#eee;color:#555}.WARN{background:#fcf8e3;border-left:.4em solid #e0a800;padding:.3em .6em}.big{font-size:1.4em;font-weight:bold}code{font-size:.95em}
            details{margin:.5em 0 1.5em 0}.picture{overflow-x:auto;margin:.5em 0}""";

    private HtmlReport() {
    }

    /** Returns the page of one certificate. */
    public static String render(Certificate c) {
        String verdict = c.certified() ? "CERTIFIED" : "NOT CERTIFIED";
        StringBuilder h = head(verdict + ": " + c.backend() + " (DirtyLog Kit certificate)");
        h.append("<p class=\"big ").append(c.certified() ? "PASS" : "FAIL").append("\" id=\"verdict\">").append(verdict)
                .append(c.certified() ? "" : ": " + html(c.reason().replaceFirst("^not certified: ", ""))).append("</p>\n");
        // A SHOULD rule that failed certifies, but the reader sees it before anything else.
        for (String w : c.warnings()) {
            h.append("<p class=\"big WARN\" id=\"warning\">Warning: ").append(html(w)).append("</p>\n");
        }
        h.append("<h1>").append(html(c.backend())).append("</h1>\n<p>").append(html(c.description())).append("</p>\n");
        h.append("<p>").append(html(c.reason())).append("</p>\n");
        h.append("<table>\n");
        row(h, "Seed", html(Long.toString(c.seed())));
        row(h, "Options", options(c.options(), c.backendJars()));
        row(h, "Reproduce", "<code>" + html(Reproduce.command(c)) + "</code>");
        row(h, "Kit version", html(c.kitVersion()));
        row(h, "Started", html(c.started().toString()));
        row(h, "Duration", String.format(Locale.ROOT, "%.1f s", c.seconds()));
        row(h, "JDK", html(c.environment().jdk()));
        row(h, "OS", html(c.environment().os()) + ", " + c.environment().cpus() + " CPUs");
        row(h, "Kernel", html(c.environment().kernel()));
        row(h, "Capabilities", c.capabilities().map(HtmlReport::capabilities)
                .orElse("unknown: the backend's capabilities() could not be read"));
        StringBuilder summary = new StringBuilder();
        c.summary().forEach((v, n) -> summary.append(summary.isEmpty() ? "" : ", ").append(n).append(' ').append(v));
        row(h, "Summary", summary.toString());
        h.append("</table>\n<h2>Rules</h2>\n<table>\n<tr><th>Rule</th><th>Level</th><th>Verdict</th><th>Statement</th>"
                + "<th>Source</th><th>Message</th><th>s</th></tr>\n");
        for (RuleResult r : c.results()) {
            h.append("<tr class=\"").append(r.verdict()).append("\"><td>");
            boolean detailed = r.verdict() == Verdict.FAIL || r.verdict() == Verdict.ERROR;
            String id = html(r.rule().id());
            h.append(detailed ? "<a href=\"#" + id + "\">" + id + "</a>" : id);
            h.append("</td><td>").append(r.rule().level()).append("</td><td>").append(r.verdict()).append("</td><td>")
                    .append(html(r.rule().statement())).append("</td><td>").append(html(r.rule().source())).append("</td><td>")
                    .append(html(r.message())).append(String.format(Locale.ROOT, "</td><td>%.2f</td></tr>%n", r.seconds()));
        }
        h.append("</table>\n");
        traces(h, c.results());
        if (!c.rulesNotRun().isEmpty()) {
            h.append("<p>Rules that did not run: ").append(html(String.join(", ", c.rulesNotRun()))).append("</p>\n");
        }
        for (RuleResult r : c.results()) {
            if (r.verdict() != Verdict.FAIL && r.verdict() != Verdict.ERROR) {
                continue;
            }
            String id = html(r.rule().id());
            h.append("<h2 id=\"").append(id).append("\">").append(id).append(' ').append(r.verdict())
                    .append("</h2>\n<p>").append(html(r.rule().statement())).append(" <i>(").append(html(r.rule().source()))
                    .append(")</i></p>\n");
            if (r.verdict() == Verdict.FAIL) {
                h.append("<table><tr><th>Expected</th><td>").append(html(r.expected())).append("</td></tr><tr><th>Actual</th><td>")
                        .append(html(r.actual())).append("</td></tr></table>\n");
            } else {
                h.append("<p>").append(html(r.message())).append("</p>\n");
            }
            h.append("<p>Scenario, as run with seed ").append(c.seed()).append(":</p>\n");
            if (r.verdict() == Verdict.FAIL && !r.scenario().isEmpty()) {
                h.append("<div class=\"picture\">").append(ScenarioSvg.render(r)).append("</div>\n");
            }
            steps(h, r.scenario());
        }
        return h.append("</body></html>\n").toString();
    }

    /**
     * Returns the index page of a run over several backends: {@code certificates} link to
     * their folders (named after the backend); {@code notRun} are the backends the run did not
     * reach (it was interrupted).
     */
    public static String renderIndex(List<Certificate> certificates, List<String> notRun, RunOptions options,
                                     List<String> backendJars) {
        long bad = certificates.stream().filter(c -> !c.certified()).count() + notRun.size();
        int total = certificates.size() + notRun.size();
        String verdict = bad == 0 ? "CERTIFIED: all " + total + " backends"
                : "NOT CERTIFIED: " + bad + " of " + total + " backends not certified";
        StringBuilder h = head(verdict + " (DirtyLog Kit certification)");
        h.append("<p class=\"big ").append(bad == 0 ? "PASS" : "FAIL").append("\" id=\"verdict\">").append(html(verdict))
                .append("</p>\n<h1>DirtyLog Kit certification</h1>\n<table>\n");
        row(h, "Seed", html(Long.toString(options.seed())));
        row(h, "Options", options(options, backendJars));
        List<String> backends = new ArrayList<>(certificates.stream().map(Certificate::backend).toList());
        backends.addAll(notRun);
        row(h, "Reproduce", "<code>" + html(Reproduce.command(backends, options, backendJars)) + "</code>");
        h.append("</table>\n<table>\n<tr><th>Backend</th><th>Result</th><th>PASS</th><th>FAIL</th>"
                + "<th>NOT_APPLICABLE</th><th>ERROR</th><th>s</th><th>Reason</th></tr>\n");
        for (Certificate c : certificates) {
            var s = c.summary();
            h.append("<tr class=\"").append(c.certified() ? "PASS" : "FAIL").append("\"><td><a href=\"")
                    .append(html(c.backend())).append("/index.html\">").append(html(c.backend())).append("</a></td><td>")
                    .append(c.certified() ? "certified" : "not certified").append("</td><td>").append(s.get(Verdict.PASS))
                    .append("</td><td>").append(s.get(Verdict.FAIL)).append("</td><td>").append(s.get(Verdict.NOT_APPLICABLE))
                    .append("</td><td>").append(s.get(Verdict.ERROR))
                    .append(String.format(Locale.ROOT, "</td><td>%.1f</td><td>", c.seconds())).append(html(c.reason()))
                    .append("</td></tr>\n");
        }
        for (String b : notRun) {
            h.append("<tr class=\"FAIL\"><td>").append(html(b)).append("</td><td>not run: the run was interrupted</td>"
                    + "<td></td><td></td><td></td><td></td><td></td><td></td></tr>\n");
        }
        h.append("</table>\n");
        if (!certificates.isEmpty()) {
            Certificate c = certificates.get(0);
            h.append("<p>Kit ").append(html(c.kitVersion())).append(", JDK ").append(html(c.environment().jdk())).append(", ")
                    .append(html(c.environment().os())).append(", kernel ").append(html(c.environment().kernel())).append("</p>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    /** Appends the table of the rules' traces ({@code --trace}) and what checking each found, if any rule has one. */
    private static void traces(StringBuilder h, List<RuleResult> results) {
        List<RuleResult> traced = results.stream().filter(r -> r.trace() != null).toList();
        if (traced.isEmpty()) {
            return;
        }
        h.append("<h2 id=\"traces\">Traces</h2>\n<p>Each rule's calls and the backend's results, checked by TLC against the "
                + "TLA+ contract (<code>spec/models/contract</code>).</p>\n<table>\n<tr><th>Rule</th><th>Trace</th><th>Check</th>"
                + "<th>Events</th><th>Behaviours</th><th>Message</th><th>s</th></tr>\n");
        for (RuleResult r : traced) {
            RuleTrace t = r.trace();
            TraceCheck c = t.check() != null ? t.check() : TraceCheck.notChecked("not checked", t.events().size());
            String css = switch (c.outcome()) {
                case TraceCheck.CONFORMS -> "PASS";
                case TraceCheck.REJECTED -> "FAIL";
                default -> "NOT_APPLICABLE";
            };
            String file = RuleTrace.file(r.rule().id());
            h.append("<tr class=\"").append(css).append("\"><td>").append(html(r.rule().id())).append("</td><td><a href=\"")
                    .append(html(file)).append("\">").append(html(file)).append("</a></td><td>").append(html(c.outcome()))
                    .append("</td><td>").append(t.events().size()).append(t.dropped() > 0 ? " (+" + t.dropped() + " dropped)" : "")
                    .append("</td><td>").append(c.behaviours()).append("</td><td>").append(html(c.message()));
            if (c.state().isPresent()) {
                h.append("<br>Contract state before that event:<pre>").append(html(c.state().get())).append("</pre>");
            }
            h.append(String.format(Locale.ROOT, "</td><td>%.2f</td></tr>%n", c.seconds()));
        }
        h.append("</table>\n");
    }

    private static String options(RunOptions o, List<String> backendJars) {
        return "effort " + Certificate.effortText(o.effort()) + "; rules "
                + o.rules().map(p -> "<code>" + html(p) + "</code>").orElse("all") + "; backend jars "
                + (backendJars.isEmpty() ? "none" : "<code>" + html(String.join(" ", backendJars)) + "</code>")
                + o.timeout().map(t -> "; every rule limited to " + t.toMillis() / 1000.0 + " s").orElse("");
    }

    private static String capabilities(Capabilities c) {
        StringBuilder caps = new StringBuilder();
        for (Capability f : Capability.values()) {
            if (c.has(f)) {
                caps.append(caps.isEmpty() ? "" : ", ").append(f.label());
            }
        }
        return html(caps.toString()) + "; KVM_CAP_USER_DIRTY_LOG generation " + c.userDirtyLogGeneration() + "; "
                + c.maxVcpus() + " vCPUs";
    }

    private static void steps(StringBuilder h, List<Step> steps) {
        h.append("<table><tr><th>#</th><th>Actor</th><th>Call</th><th>Result</th></tr>\n");
        int i = 1;
        for (Step s : steps) {
            h.append("<tr><td>").append(i++).append("</td><td>").append(html(s.actor())).append("</td><td><code>")
                    .append(html(s.call())).append("</code></td><td><code>").append(html(s.result())).append("</code></td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(html(title))
                .append("</title><style>").append(STYLE).append("</style></head><body>\n");
    }

    private static void row(StringBuilder h, String name, String html) {
        h.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>\n");
    }
}
