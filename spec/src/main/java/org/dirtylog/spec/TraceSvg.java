package org.dirtylog.spec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Draws a TLC counterexample as a self-contained SVG swimlane diagram: one lane per vCPU (or
 * SRCU reader), one for the harvester and one for the memslot updater, one row per step with
 * its action name in the lane of whoever took it and the variables it changed highlighted on
 * the right. For a {@code NoLostWrite} violation the lost pages are named, the steps that touch
 * them carry a red dot and the store whose write was lost a red outline. No scripts, no
 * external resources: the file opens in any browser and embeds in HTML as it is.
 */
public final class TraceSvg {

    /** Lane of the control thread's harvests ({@code KVM_SWITCH_DIRTY_LOG}, GET, CLEAR, the ring collector). */
    public static final String HARVESTER = "harvester";
    /** Lane of the memslot updates ({@code LogOn} / {@code LogOff}, {@code synchronize_srcu}). */
    public static final String UPDATER = "memslot updater";

    private static final int ROW = 24;
    private static final int TOP = 56;
    private static final int NUMBER = 44;
    private static final int LANE = 168;
    private static final int CHAR = 7;
    private static final int DETAIL_CHARS = 110;
    private static final String HARVESTS = "|switch|get|getclear|harvest|";
    /** Per-vCPU program counters whose domain gives the vCPU lanes: DirtyLog, DirtyRing, SrcuCounters. */
    private static final List<String> LANE_VARIABLES = List.of("pc", "mode", "rpc");
    private static final String UPDATES = "|logon|logoff|";

    private TraceSvg() {
    }

    /**
     * The picture's facts about one step.
     *
     * @param step    the TLC step
     * @param lanes   indexes of the lanes the step is drawn across (one, unless the trace does
     *                not say which vCPU took it, or it is the initial state or a stutter)
     * @param changes the variables it changed, as {@link TraceFormatter#changes} writes them
     * @param touchesLost whether {@code changes} names a lost page
     * @param lostStore   whether this is the store whose write was lost
     */
    record Row(TraceStep step, List<Integer> lanes, String changes, boolean touchesLost, boolean lostStore) {
    }

    /**
     * Returns the diagram of {@code trace}, headed by {@code title}; {@code verdict} is TLC's
     * verdict ({@code violates:NoLostWrite} marks the lost pages).
     */
    public static String render(String title, String verdict, List<TraceStep> trace) {
        List<String> lanes = lanes(trace);
        Set<String> lost = verdict.equals("violates:NoLostWrite") ? lostPages(trace) : Set.of();
        List<Row> rows = rows(trace, lanes, lost);
        int detailX = NUMBER + lanes.size() * LANE + 12;
        int width = detailX + DETAIL_CHARS * CHAR + 16;
        int legend = TOP + rows.size() * ROW + 14;
        int height = legend + (lost.isEmpty() ? 24 : 44);
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"trace\" width=\"%d\""
                + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">%n",
                width, height, width, height));
        s.append("<title>").append(xml(title)).append("</title>\n");
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
        s.append(text(8, 18, "#222222", "bold", cut(title, (width - 16) / CHAR)));
        for (int i = 0; i < lanes.size(); i++) {
            int x = NUMBER + i * LANE;
            s.append(String.format(Locale.ROOT, "<g class=\"lane\" data-lane=\"%s\">", xml(lanes.get(i))));
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"28\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
                    x + 2, LANE - 4, rows.size() * ROW + 22, i % 2 == 0 ? "#f4f6fa" : "#eef1f6"));
            s.append(text(x + LANE / 2, 44, "#222222", "bold middle", cut(lanes.get(i), LANE / CHAR - 1)));
            s.append("</g>\n");
        }
        s.append(text(detailX, 44, "#222222", "bold", "changed variables"));
        for (int r = 0; r < rows.size(); r++) {
            row(s, rows.get(r), lanes, TOP + r * ROW, detailX, lost);
        }
        s.append(text(8, legend + 4, "#555555", "", "yellow: variables the step changed"
                + (lost.isEmpty() ? "" : "; red dot: step names a lost page; red outline: the store whose write was lost")));
        if (!lost.isEmpty()) {
            s.append("<g class=\"lost\" data-pages=\"").append(xml(String.join(" ", lost))).append("\">");
            s.append(text(8, legend + 24, "#b00020", "bold", cut("lost: " + String.join(", ", lost)
                    + " (its write completed before the last harvest began, and no harvest reported it)",
                    (width - 16) / CHAR)));
            s.append("</g>\n");
        }
        return s.append("</svg>\n").toString();
    }

    private static void row(StringBuilder s, Row row, List<String> lanes, int y, int detailX, Set<String> lost) {
        TraceStep step = row.step();
        int first = row.lanes().get(0);
        int last = row.lanes().get(row.lanes().size() - 1);
        String where = String.join(" ", row.lanes().stream().map(lanes::get).toList());
        s.append(String.format(Locale.ROOT, "<g class=\"step%s%s\" data-step=\"%d\" data-action=\"%s\" data-lane=\"%s\">",
                row.touchesLost() ? " touches-lost" : "", row.lostStore() ? " lost-store" : "",
                step.number(), xml(step.action()), xml(where)));
        s.append("<title>").append(xml(step.number() + " " + step.action() + ": " + row.changes())).append("</title>");
        s.append(text(NUMBER - 8, y + 15, "#555555", "end", Integer.toString(step.number())));
        if (row.touchesLost()) {
            s.append(String.format(Locale.ROOT, "<circle cx=\"8\" cy=\"%d\" r=\"4\" fill=\"#b00020\"/>", y + 11));
        }
        int x = NUMBER + first * LANE + 8;
        int w = (last - first + 1) * LANE - 16;
        String fill = row.lanes().size() > 1 ? "#e0e0e0" : lanes.get(first).equals(HARVESTER) ? "#cfe3ff"
                : lanes.get(first).equals(UPDATER) ? "#e3d4f5" : "#d6f0d6";
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\" fill=\"%s\""
                + " stroke=\"%s\" stroke-width=\"%s\"/>", x, y + 1, w, fill,
                row.lostStore() ? "#b00020" : "#7a869a", row.lostStore() ? "3" : "1"));
        s.append(text(x + w / 2, y + 15, "#111111", "middle", cut(step.action(), w / CHAR)));
        String shown = cut(row.changes(), DETAIL_CHARS);
        if (!row.changes().equals("(no change)")) {
            s.append(String.format(Locale.ROOT, "<rect class=\"changed\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\""
                    + " fill=\"#fff3a0\"/>", detailX - 3, y + 2, highlightWidth(shown)));
        }
        s.append(text(detailX, y + 15, "#222222", "", shown));
        s.append("</g>\n");
    }

    /**
     * Returns the lane names: one per vCPU (the domain of {@code pc} in DirtyLog, of
     * {@code mode} in DirtyRing) or SRCU reader ({@code rpc} in SrcuCounters) in the initial
     * state, then the harvester and the memslot updater.
     */
    static List<String> lanes(List<TraceStep> trace) {
        List<String> lanes = new ArrayList<>();
        if (!trace.isEmpty()) {
            Map<String, String> init = trace.get(0).variables();
            for (String var : LANE_VARIABLES) {
                Optional<Map<String, String>> domain = Optional.ofNullable(init.get(var)).flatMap(TraceFormatter::entries);
                if (domain.isPresent()) {
                    String prefix = var.equals("rpc") ? "reader " : "vCPU ";
                    domain.get().keySet().forEach(k -> lanes.add(prefix + k));
                    break;
                }
            }
        }
        lanes.add(HARVESTER);
        lanes.add(UPDATER);
        return lanes;
    }

    /** Returns the rows: per step its lanes, its changes and whether it touches a lost page. */
    static List<Row> rows(List<TraceStep> trace, List<String> lanes, Set<String> lost) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < lanes.size(); i++) {
            all.add(i);
        }
        int lostStore = lostStore(trace, lost);
        List<Row> rows = new ArrayList<>();
        Map<String, String> previous = Map.of();
        for (int i = 0; i < trace.size(); i++) {
            TraceStep step = trace.get(i);
            String changes;
            List<Integer> where;
            if (i == 0) {
                changes = "initial state: " + String.join(", ", step.variables().entrySet().stream()
                        .map(e -> e.getKey() + " = " + e.getValue()).toList());
                where = all;
            } else {
                changes = TraceFormatter.changes(previous, step.variables());
                if (step.closesLoop()) {
                    changes += "  <- back to the state of step " + step.backTo();
                }
                where = lanesOf(step, previous, lanes, all);
            }
            String changed = changes;
            boolean touches = i > 0 && lost.stream().anyMatch(p -> mentions(changed, p));
            rows.add(new Row(step, where, changes, touches, i == lostStore));
            if (!step.variables().isEmpty()) {
                previous = step.variables();
            }
        }
        return rows;
    }

    /**
     * Returns the lanes of a step: a vCPU action ({@code Vcpu*}, SRCU {@code ReadLock*} and
     * {@code ReadUnlock}) goes to the
     * vCPU whose own entries it changed, or across every vCPU it may have been when the changed
     * entries do not tell (an x86 fault maps the page for all); a control-thread step goes to
     * the harvester or the updater after the operation under way ({@code op}), else after its
     * name.
     */
    private static List<Integer> lanesOf(TraceStep step, Map<String, String> before, List<String> lanes,
                                         List<Integer> all) {
        String action = step.action();
        int cpus = lanes.size() - 2;
        if (action.startsWith("Vcpu") || action.startsWith("ReadLock") || action.startsWith("ReadUnlock")) {
            List<Integer> cpuLanes = all.subList(0, cpus);
            List<Integer> actor = actor(before, step.variables(), lanes, cpus);
            return !actor.isEmpty() ? actor : cpuLanes.isEmpty() ? List.of(cpus) : cpuLanes;
        }
        if (step.variables().isEmpty()) {
            return all;
        }
        String op = unquote(step.variables().getOrDefault("op", ""));
        if (op.equals("none")) {
            op = unquote(before.getOrDefault("op", ""));
        }
        if (HARVESTS.contains("|" + op + "|")) {
            return List.of(cpus);
        }
        if (UPDATES.contains("|" + op + "|") || action.startsWith("LogO") || action.startsWith("Region")
                || action.startsWith("Sync") || action.startsWith("GracePeriodBegin")
                || action.startsWith("GracePeriodEnd")) {
            return List.of(cpus + 1);
        }
        return List.of(cpus);
    }

    /**
     * Returns the vCPU lanes whose own entries changed: the one whose program counter
     * ({@code pc[v1]}, {@code mode}, {@code rpc}) changed when only one did (other functions may
     * share the domain: SRCU's stripes are 1..N like its readers), else those with an entry
     * changed in a variable where not every vCPU's entry changed, else all with one.
     */
    private static List<Integer> actor(Map<String, String> before, Map<String, String> after, List<String> lanes,
                                       int cpus) {
        Set<Integer> any = new LinkedHashSet<>();
        Set<Integer> own = new LinkedHashSet<>();
        Set<Integer> counter = new LinkedHashSet<>();
        after.forEach((name, value) -> {
            Optional<Map<String, String>> was = Optional.ofNullable(before.get(name)).flatMap(TraceFormatter::entries);
            Optional<Map<String, String>> now = TraceFormatter.entries(value);
            if (was.isEmpty() || now.isEmpty()) {
                return;
            }
            List<Integer> changed = new ArrayList<>();
            for (int c = 0; c < cpus; c++) {
                String key = lanes.get(c).substring(lanes.get(c).indexOf(' ') + 1);
                if (now.get().containsKey(key) && !now.get().get(key).equals(was.get().get(key))) {
                    changed.add(c);
                }
            }
            any.addAll(changed);
            if (changed.size() < cpus) {
                own.addAll(changed);
            }
            if (LANE_VARIABLES.contains(name)) {
                counter.addAll(changed);
            }
        });
        if (counter.size() == 1) {
            return List.copyOf(counter);
        }
        return List.copyOf(own.size() == 1 ? own : any.size() == 1 ? any : own.isEmpty() ? any : own);
    }

    /**
     * Returns the pages of the last state's {@code must} that its {@code reported} lacks
     * (DirtyLog), or its {@code must} when there is no {@code reported} (DirtyRing): the pages
     * whose write no harvest reported.
     */
    static Set<String> lostPages(List<TraceStep> trace) {
        for (int i = trace.size() - 1; i >= 0; i--) {
            Map<String, String> state = trace.get(i).variables();
            if (state.containsKey("must")) {
                Set<String> lost = new LinkedHashSet<>(members(state.get("must")));
                lost.removeAll(members(state.getOrDefault("reported", "{}")));
                return lost;
            }
        }
        return Set.of();
    }

    /**
     * Returns the index of the last step that added a lost page to {@code owed} (DirtyLog) or
     * {@code unread} (DirtyRing), the store whose write was lost; -1 when there is none.
     */
    private static int lostStore(List<TraceStep> trace, Set<String> lost) {
        int found = -1;
        for (int i = 1; i < trace.size(); i++) {
            for (String var : List.of("owed", "unread")) {
                String now = trace.get(i).variables().get(var);
                String was = trace.get(i - 1).variables().get(var);
                if (now != null && was != null) {
                    List<String> before = members(was);
                    if (members(now).stream().anyMatch(p -> lost.contains(p) && !before.contains(p))) {
                        found = i;
                    }
                }
            }
        }
        return found;
    }

    /** Returns the members of a TLC set of model values {@code {p1, p2}}; empty for anything else. */
    static List<String> members(String set) {
        String v = set.trim();
        if (!v.startsWith("{") || !v.endsWith("}")) {
            return List.of();
        }
        String inner = v.substring(1, v.length() - 1).trim();
        return inner.isEmpty() ? List.of()
                : TraceFormatter.splitTopLevel(inner, ",").stream().map(String::trim).toList();
    }

    /** Returns whether {@code text} names {@code page} as a whole word. */
    private static boolean mentions(String text, String page) {
        int at = text.indexOf(page);
        while (at >= 0) {
            int end = at + page.length();
            boolean startOk = at == 0 || !Character.isLetterOrDigit(text.charAt(at - 1));
            boolean endOk = end == text.length() || !Character.isLetterOrDigit(text.charAt(end));
            if (startOk && endOk) {
                return true;
            }
            at = text.indexOf(page, at + 1);
        }
        return false;
    }

    /** Returns the width of a highlight behind {@code text}: a monospace 12px glyph is about 7.25px wide. */
    private static int highlightWidth(String text) {
        return (int) Math.ceil(text.length() * 7.25) + 6;
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }

    private static String text(int x, int y, String fill, String style, String content) {
        StringBuilder t = new StringBuilder(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"%s\"", x, y, fill));
        if (style.contains("bold")) {
            t.append(" font-weight=\"bold\"");
        }
        if (style.contains("middle")) {
            t.append(" text-anchor=\"middle\"");
        } else if (style.contains("end")) {
            t.append(" text-anchor=\"end\"");
        }
        return t.append('>').append(xml(content)).append("</text>").toString();
    }

    /** Returns {@code s} cut to {@code max} characters, ending in {@code ...} when cut. */
    static String cut(String s, int max) {
        String line = s.replace('\n', ' ');
        return line.length() <= max ? line : line.substring(0, Math.max(0, max - 3)) + "...";
    }

    /**
     * Returns {@code s} as XML 1.0 text for element content and double-quoted attributes:
     * markup as entities; characters XML 1.0 cannot carry (control characters, lone
     * surrogates, U+FFFE/U+FFFF) as a visible {@code \}{@code uXXXX}. TLC's values come from a
     * spec a user may have edited, so they are escaped like any other outside text.
     */
    static String xml(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    if (pair) {
                        out.append(c).append(s.charAt(++i));
                    } else if (c < 0x20 || Character.isSurrogate(c) || c == 0xFFFE || c == 0xFFFF) {
                        out.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
