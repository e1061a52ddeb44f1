package org.dirtylog.conformance.report;

import java.util.List;
import java.util.Locale;

/**
 * Escapes for the report formats. Every string a backend produced (name, description, messages,
 * scenario steps) reaches a report only through one of these, so a message holding markup, a
 * lone surrogate, a control character or U+FFFF cannot break HTML, XML or the console.
 */
public final class Text {

    private Text() {
    }

    /**
     * Returns {@code s} as HTML text (element content or a double-quoted attribute value):
     * markup characters as entities; lone surrogates and control characters other than tab
     * and newline as a visible {@code \}{@code uXXXX}, since they cannot be encoded in UTF-8 or are
     * not allowed in HTML.
     */
    public static String html(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    int paired = pairedLength(s, i);
                    if (paired == 2) {
                        out.append(c).append(s.charAt(++i));
                    } else if (paired == 0 || (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F
                            || (c >= 0x80 && c < 0xA0) || c == 0xFFFE || c == 0xFFFF) {
                        unicodeEscape(out, c);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /**
     * Returns {@code s} as XML 1.0 text usable both as element content and as a double-quoted
     * attribute value: markup characters as entities, tab / newline / carriage return as
     * character references (so attribute normalisation keeps them), and the characters XML 1.0
     * forbids (other control characters, lone surrogates, U+FFFE, U+FFFF) as a visible
     * {@code \}{@code uXXXX}, since not even a character reference may name them.
     */
    public static String xml(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                case '\t' -> out.append("&#9;");
                case '\n' -> out.append("&#10;");
                case '\r' -> out.append("&#13;");
                default -> {
                    int paired = pairedLength(s, i);
                    if (paired == 2) {
                        out.append(c).append(s.charAt(++i));
                    } else if (paired == 0 || c < 0x20 || c == 0xFFFE || c == 0xFFFF) {
                        unicodeEscape(out, c);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /**
     * Returns {@code s} with each lone surrogate as a visible {@code \}{@code uXXXX}: the form a
     * JSON file people read with jq takes (jq rejects an escaped lone surrogate); paired
     * surrogates and every other character stay as they are.
     */
    public static String withoutLoneSurrogates(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int paired = pairedLength(s, i);
            if (paired == 0 && out == null) {
                out = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (out == null) {
                i += paired - 1;
                continue;
            }
            if (paired == 2) {
                out.append(c).append(s.charAt(++i));
            } else if (paired == 0) {
                unicodeEscape(out, c);
            } else {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }

    /**
     * Returns {@code s} on one console line of at most {@code max} characters: line breaks as
     * spaces, other control characters and lone surrogates as {@code \}{@code uXXXX}, the rest
     * cut with {@code ...}.
     */
    public static String line(String s, int max) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), max) + 8);
        for (int i = 0; i < s.length() && out.length() < max + 8; i++) {
            char c = s.charAt(i);
            int paired = pairedLength(s, i);
            if (c == '\n' || c == '\r' || c == '\t') {
                out.append(' ');
            } else if (paired == 2) {
                out.append(c).append(s.charAt(++i));
            } else if (paired == 0 || c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0xFFFE || c == 0xFFFF) {
                unicodeEscape(out, c);
            } else {
                out.append(c);
            }
        }
        return out.length() <= max ? out.toString() : out.substring(0, max - 3) + "...";
    }

    /**
     * Returns {@code args} as one POSIX shell command line: each argument as it is when it holds
     * only characters no shell treats specially, else in single quotes.
     */
    public static String shellCommand(List<String> args) {
        StringBuilder out = new StringBuilder();
        for (String a : args) {
            if (!out.isEmpty()) {
                out.append(' ');
            }
            out.append(a.matches("[A-Za-z0-9_./=:,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return out.toString();
    }

    /** Returns 2 for a valid surrogate pair starting at {@code i}, 0 for a lone surrogate, 1 otherwise. */
    private static int pairedLength(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)) ? 2 : 0;
        }
        return Character.isLowSurrogate(c) ? 0 : 1;
    }

    private static void unicodeEscape(StringBuilder out, char c) {
        out.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
    }
}
