package org.dirtylog.conformance.report;

import static org.dirtylog.conformance.report.Text.html;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dirtylog.conformance.RuleResult;
import org.dirtylog.conformance.Step;

/**
 * Draws a FAIL's scenario as a self-contained SVG swimlane diagram for the certificate: one lane
 * per vCPU, one for the harvester (the harvest ioctls), one for the memslot updater
 * ({@code KVM_SET_USER_MEMORY_REGION}), one for the other VM calls and one for the suite's own
 * reads; one row per step with the call in its lane and the result highlighted on the right.
 * The pages the FAIL names are listed and every step that mentions one is marked in red. No
 * scripts, no external resources. Every backend string goes through {@link Text#html}, whose
 * output is also well-formed XML text, so the picture parses as XML on its own and as HTML inline.
 */
public final class ScenarioSvg {

    /** Lane of the harvest ioctls. */
    public static final String HARVESTER = "harvester";
    /** Lane of {@code KVM_SET_USER_MEMORY_REGION}. */
    public static final String UPDATER = "memslot updater";
    /** Lane of the suite's own reads ({@code suite} steps). */
    public static final String SUITE = "suite reads";

    private static final List<String> HARVEST_CALLS = List.of("KVM_GET_DIRTY_LOG", "KVM_SWITCH_DIRTY_LOG",
            "KVM_CLEAR_DIRTY_LOG", "KVM_RESET_DIRTY_RINGS", "KVM_GET_USER_DIRTY_LOG_ADDR");
    private static final Pattern VCPU = Pattern.compile("vcpu([0-9]{1,9})");
    private static final Pattern PAGE = Pattern.compile("\\bpage ([0-9]{1,18})\\b");
    private static final Pattern LIST = Pattern.compile("\\[([0-9, ]*)\\]");
    private static final Pattern RANGE = Pattern.compile("\\bpages ([0-9]{1,18})\\.\\.([0-9]{1,18})\\b");
    private static final int MAX_PAGES = 8;
    private static final int ROW = 24;
    private static final int TOP = 36;
    private static final int NUMBER = 44;
    private static final int LANE = 150;
    private static final int CHAR = 7;
    private static final int DETAIL_CHARS = 130;

    private ScenarioSvg() {
    }

    /** Returns the diagram of {@code r}'s scenario. */
    public static String render(RuleResult r) {
        List<Step> steps = r.scenario();
        List<String> lanes = lanes(steps);
        List<Long> pages = namedPages(r.message(), r.expected(), r.actual());
        int detailX = NUMBER + lanes.size() * LANE + 12;
        int width = detailX + DETAIL_CHARS * CHAR + 16;
        int legend = TOP + steps.size() * ROW + 14;
        int height = legend + (pages.isEmpty() ? 24 : 44);
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"scenario\" width=\"%d\""
                + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"12\">%n",
                width, height, width, height));
        s.append("<title>").append(html(r.rule().id() + " " + r.verdict() + ": " + r.message())).append("</title>\n");
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
        for (int i = 0; i < lanes.size(); i++) {
            int x = NUMBER + i * LANE;
            s.append("<g class=\"lane\" data-lane=\"").append(html(lanes.get(i))).append("\">");
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"4\" width=\"%d\" height=\"%d\" fill=\"%s\"/>",
                    x + 2, LANE - 4, steps.size() * ROW + 36, i % 2 == 0 ? "#f4f6fa" : "#eef1f6"));
            s.append(text(x + LANE / 2, 22, "#222222", "bold middle", cut(lanes.get(i), LANE / CHAR - 1)));
            s.append("</g>\n");
        }
        s.append(text(detailX, 22, "#222222", "bold", "call -> result"));
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            int lane = lanes.indexOf(lane(step));
            int y = TOP + i * ROW;
            boolean marked = pages.stream().anyMatch(p -> mentions(step.call() + " -> " + step.result(), p));
            s.append(String.format(Locale.ROOT, "<g class=\"step%s\" data-step=\"%d\" data-lane=\"%s\">",
                    marked ? " touches-page" : "", i + 1, html(lanes.get(lane))));
            s.append("<title>").append(html((i + 1) + " " + step.actor() + ": " + step.call() + " -> " + step.result()))
                    .append("</title>");
            s.append(text(NUMBER - 8, y + 15, "#555555", "end", Integer.toString(i + 1)));
            if (marked) {
                s.append(String.format(Locale.ROOT, "<circle cx=\"8\" cy=\"%d\" r=\"4\" fill=\"#b00020\"/>", y + 11));
            }
            int x = NUMBER + lane * LANE + 6;
            int w = LANE - 12;
            String fill = lanes.get(lane).equals(HARVESTER) ? "#cfe3ff" : lanes.get(lane).equals(UPDATER) ? "#e3d4f5"
                    : lanes.get(lane).equals(SUITE) ? "#f5e6c8" : VCPU.matcher(lanes.get(lane)).matches() ? "#d6f0d6"
                    : "#e0e0e0";
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\" fill=\"%s\""
                    + " stroke=\"%s\" stroke-width=\"%s\"/>", x, y + 1, w, fill, marked ? "#b00020" : "#7a869a",
                    marked ? "2" : "1"));
            s.append(text(x + 4, y + 15, "#111111", "", cut(step.call(), w / CHAR - 1)));
            String call = cut(step.call(), 90);
            String result = cut(step.result(), DETAIL_CHARS - call.length() - 4);
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" fill=\"#222222\">%s -&gt; </text>",
                    detailX, y + 15, html(call)));
            int rx = detailX + (int) Math.ceil((call.length() + 4) * 7.25);
            if (!result.isEmpty()) {
                s.append(String.format(Locale.ROOT, "<rect class=\"changed\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"18\""
                        + " fill=\"#fff3a0\"/>", rx - 3, y + 2, (int) Math.ceil(result.length() * 7.25) + 6));
            }
            s.append(text(rx, y + 15, "#222222", "", result));
            s.append("</g>\n");
        }
        s.append(text(8, legend + 4, "#555555", "", "yellow: what the backend returned"
                + (pages.isEmpty() ? "" : "; red: steps that mention a page the FAIL names")));
        if (!pages.isEmpty()) {
            String list = String.join(", ", pages.stream().map(String::valueOf).toList());
            s.append("<g class=\"pages\" data-pages=\"").append(html(list.replace(", ", " "))).append("\">");
            s.append(text(8, legend + 24, "#b00020", "bold", "pages the FAIL names: " + list));
            s.append("</g>\n");
        }
        return s.append("</svg>\n").toString();
    }

    /**
     * Returns the lanes {@code steps} use: the vCPUs in id order, then harvester, memslot
     * updater, the other actors in the order they first appear, and the suite's reads last.
     */
    static List<String> lanes(List<Step> steps) {
        Set<String> used = new LinkedHashSet<>();
        steps.forEach(s -> used.add(lane(s)));
        List<String> lanes = new ArrayList<>(used.stream().filter(l -> VCPU.matcher(l).matches())
                .sorted(Comparator.comparingLong(l -> Long.parseLong(l.substring(4)))).toList());
        for (String fixed : List.of(HARVESTER, UPDATER)) {
            if (used.contains(fixed)) {
                lanes.add(fixed);
            }
        }
        used.stream().filter(l -> !lanes.contains(l) && !l.equals(SUITE)).forEach(lanes::add);
        if (used.contains(SUITE)) {
            lanes.add(SUITE);
        }
        return lanes;
    }

    /** Returns the lane of one step: its vCPU, the harvester, the updater, the suite or its actor. */
    static String lane(Step step) {
        if (VCPU.matcher(step.actor()).matches()) {
            return step.actor();
        }
        if (step.actor().equals("suite")) {
            return SUITE;
        }
        if (HARVEST_CALLS.stream().anyMatch(c -> step.call().startsWith(c))) {
            return HARVESTER;
        }
        if (step.call().startsWith("KVM_SET_USER_MEMORY_REGION")) {
            return UPDATER;
        }
        return step.actor();
    }

    /**
     * Returns the pages a FAIL names: when expected and actual both list pages
     * ({@code pages [1, 2]}), the expected ones actual lacks; else every {@code page N} and
     * listed page of expected, actual and message. At most {@value #MAX_PAGES}.
     */
    static List<Long> namedPages(String message, String expected, String actual) {
        List<Long> wanted = listed(expected);
        List<Long> got = listed(actual);
        Set<Long> pages = new LinkedHashSet<>();
        if (!wanted.isEmpty() && expected.contains("pages [") && actual.contains("pages [")) {
            wanted.stream().filter(p -> !got.contains(p)).forEach(pages::add);
        }
        if (pages.isEmpty()) {
            for (String text : List.of(expected, actual, message)) {
                Matcher m = PAGE.matcher(text);
                while (m.find()) {
                    pages.add(Long.parseLong(m.group(1)));
                }
                if (text.contains("pages [")) {
                    pages.addAll(listed(text));
                }
            }
        }
        return pages.stream().limit(MAX_PAGES).toList();
    }

    /** Returns the numbers of the first {@code pages [..]} list in {@code text}. */
    private static List<Long> listed(String text) {
        int at = text.indexOf("pages [");
        if (at < 0) {
            return List.of();
        }
        Matcher m = LIST.matcher(text);
        return m.find(at) ? numbers(m.group(1)) : List.of();
    }

    private static List<Long> numbers(String list) {
        List<Long> out = new ArrayList<>();
        for (String n : list.split(",")) {
            if (!n.isBlank() && n.trim().length() <= 18) {
                out.add(Long.parseLong(n.trim()));
            }
        }
        return out;
    }

    /** Returns whether {@code text} names page {@code page}: {@code page N}, in a {@code [..]} list, or in {@code pages a..b}. */
    static boolean mentions(String text, long page) {
        Matcher single = PAGE.matcher(text);
        while (single.find()) {
            if (Long.parseLong(single.group(1)) == page) {
                return true;
            }
        }
        Matcher list = LIST.matcher(text);
        while (list.find()) {
            if (numbers(list.group(1)).contains(page)) {
                return true;
            }
        }
        Matcher range = RANGE.matcher(text);
        while (range.find()) {
            if (Long.parseLong(range.group(1)) <= page && page <= Long.parseLong(range.group(2))) {
                return true;
            }
        }
        return false;
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
        return t.append('>').append(html(content)).append("</text>").toString();
    }

    /** Returns {@code s} on one line cut to {@code max} characters, ending in {@code ...} when cut. */
    private static String cut(String s, int max) {
        String line = s.replace('\n', ' ').replace('\r', ' ');
        return line.length() <= max ? line : line.substring(0, Math.max(0, max - 3)) + "...";
    }
}
