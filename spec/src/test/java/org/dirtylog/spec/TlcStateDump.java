package org.dirtylog.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The states of a TLC {@code -dump} file: one map from variable name to value per state.
 *
 * <p>Values are parsed as far as the contract's states need: a set becomes a sorted
 * {@code TreeSet<String>} of its elements' texts, a function {@code (a :> x @@ b :> y)} a
 * {@code TreeMap<String, Object>}, a string its text without quotes, anything else (a model
 * value, a number, {@code TRUE}/{@code FALSE}) its text.
 */
final class TlcStateDump {

    private TlcStateDump() {
    }

    /** Returns the states of {@code dumpFile} in the order TLC wrote them. */
    static List<Map<String, Object>> read(Path dumpFile) throws IOException {
        List<Map<String, Object>> states = new ArrayList<>();
        StringBuilder body = null;
        for (String line : Files.readAllLines(dumpFile)) {
            if (line.startsWith("State ")) {
                if (body != null) {
                    states.add(parseState(body.toString()));
                }
                body = new StringBuilder();
            } else if (body != null) {
                body.append(line).append(' ');
            }
        }
        if (body != null) {
            states.add(parseState(body.toString()));
        }
        return states;
    }

    /** Returns the variables of one state written as {@code /\ x = v /\ y = w}. */
    static Map<String, Object> parseState(String text) {
        Map<String, Object> state = new LinkedHashMap<>();
        for (String conjunct : text.split("/\\\\")) {
            String c = conjunct.strip();
            if (c.isEmpty()) {
                continue;
            }
            int eq = c.indexOf(" = ");
            if (eq < 0) {
                throw new IllegalArgumentException("not a variable assignment: " + c);
            }
            Parser p = new Parser(c.substring(eq + 3));
            state.put(c.substring(0, eq).strip(), p.value());
            p.end();
        }
        return state;
    }

    /** Recursive descent over TLC's printed values. */
    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        Object value() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                TreeSet<String> set = new TreeSet<>();
                skip();
                if (peek('}')) {
                    i++;
                    return set;
                }
                do {
                    set.add(String.valueOf(value()));
                    skip();
                } while (accept(','));
                expect('}');
                return set;
            }
            if (c == '(') {
                i++;
                TreeMap<String, Object> function = new TreeMap<>();
                do {
                    String key = String.valueOf(value());
                    skip();
                    expect(':');
                    expect('>');
                    function.put(key, value());
                    skip();
                } while (accept('@') && accept('@'));
                expect(')');
                return function;
            }
            if (c == '"') {
                int close = s.indexOf('"', i + 1);
                String text = s.substring(i + 1, close);
                i = close + 1;
                return text;
            }
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("unexpected '" + c + "' at " + i + " in " + s);
            }
            return s.substring(start, i);
        }

        void end() {
            skip();
            if (i != s.length()) {
                throw new IllegalArgumentException("trailing text at " + i + " in " + s);
            }
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            return i < s.length() && s.charAt(i) == c;
        }

        private boolean accept(char c) {
            skip();
            if (peek(c)) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!accept(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i + " in " + s);
            }
        }
    }
}
