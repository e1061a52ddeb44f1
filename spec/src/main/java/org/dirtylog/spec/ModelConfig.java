package org.dirtylog.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The parts of a TLC {@code .cfg} file the runner needs: constant assignments (with their
 * lines), invariants and properties.  Only the one-item-per-line layout of the kit's models is
 * read; TLC itself remains the authority on the file's syntax.
 *
 * @param file        the configuration file
 * @param constants   constant name to assigned text ({@code = value} or {@code <- def})
 * @param constantLine constant name to its 1-based line
 * @param invariants  invariant names in file order
 * @param properties  property names in file order
 * @param lines       the file's lines (for locating names TLC complains about)
 */
public record ModelConfig(
        Path file,
        Map<String, String> constants,
        Map<String, Integer> constantLine,
        List<String> invariants,
        List<String> properties,
        List<String> lines) {

    private static final Set<String> KEYWORDS = Set.of(
            "CONSTANT", "CONSTANTS", "INIT", "NEXT", "SPECIFICATION", "INVARIANT", "INVARIANTS",
            "PROPERTY", "PROPERTIES", "SYMMETRY", "VIEW", "CHECK_DEADLOCK", "CONSTRAINT",
            "CONSTRAINTS", "ACTION_CONSTRAINT", "ACTION_CONSTRAINTS", "POSTCONDITION", "ALIAS");
    private static final Pattern ASSIGNMENT =
            Pattern.compile("^([A-Za-z_][A-Za-z0-9_]*)\\s*(=|<-)\\s*(.+)$");
    private static final Pattern CONSTANT_DECLARATION = Pattern.compile(
            "(?m)^\\s*CONSTANTS?\\b(.*?)(?=^\\s*(?:VARIABLES?\\b|ASSUME\\b|CONSTANTS?\\b|EXTENDS\\b"
                    + "|LOCAL\\b|INSTANCE\\b|RECURSIVE\\b|-{4,}|={4,}|[A-Za-z_][A-Za-z0-9_]*\\s*(?:\\(.*\\))?\\s*==))",
            Pattern.DOTALL);

    /** Returns the parsed configuration file. */
    public static ModelConfig read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        Map<String, String> constants = new LinkedHashMap<>();
        Map<String, Integer> constantLine = new LinkedHashMap<>();
        List<String> invariants = new ArrayList<>();
        List<String> properties = new ArrayList<>();
        String section = "";
        for (int i = 0; i < lines.size(); i++) {
            String line = stripComment(lines.get(i)).trim();
            if (line.isEmpty()) {
                continue;
            }
            String first = line.split("\\s+", 2)[0];
            String rest = line;
            if (KEYWORDS.contains(first)) {
                section = first;
                rest = line.substring(first.length()).trim();
                if (rest.isEmpty()) {
                    continue;
                }
            }
            switch (section) {
                case "CONSTANT", "CONSTANTS" -> {
                    Matcher m = ASSIGNMENT.matcher(rest);
                    if (m.matches()) {
                        constants.put(m.group(1), (m.group(2).equals("=") ? "" : "<- ") + m.group(3).trim());
                        constantLine.put(m.group(1), i + 1);
                    }
                }
                case "INVARIANT", "INVARIANTS" -> invariants.addAll(List.of(rest.split("\\s+")));
                case "PROPERTY", "PROPERTIES" -> properties.addAll(List.of(rest.split("\\s+")));
                default -> { }
            }
        }
        return new ModelConfig(file, constants, constantLine, invariants, properties, lines);
    }

    /** Returns the 1-based line of the first whole-word occurrence of {@code name}, or 0. */
    public int lineOf(String name) {
        Pattern word = Pattern.compile("(?<![A-Za-z0-9_])" + Pattern.quote(name) + "(?![A-Za-z0-9_])");
        for (int i = 0; i < lines.size(); i++) {
            if (word.matcher(stripComment(lines.get(i))).find()) {
                return i + 1;
            }
        }
        return 0;
    }

    /**
     * Returns the constant assignments naming no constant declared by any module in
     * {@code moduleDir} (TLC 2.18 ignores them silently, so a misspelt constant would go
     * unnoticed).
     */
    public List<SpecError> undeclaredConstants(Path moduleDir) throws IOException {
        Set<String> declared = new java.util.HashSet<>();
        try (var files = Files.list(moduleDir)) {
            for (Path tla : files.filter(p -> p.toString().endsWith(".tla")).toList()) {
                declared.addAll(declaredConstants(Files.readString(tla)));
            }
        }
        List<SpecError> errors = new ArrayList<>();
        for (String name : constants.keySet()) {
            if (!declared.contains(name)) {
                errors.add(new SpecError(file.toString(), constantLine.get(name),
                        "constant " + name + " is assigned but no module in " + moduleDir
                                + " declares it"));
            }
        }
        return errors;
    }

    /** Returns the constant names declared by {@code CONSTANT(S)} in a module's text. */
    static Set<String> declaredConstants(String moduleText) {
        String text = moduleText.replaceAll("(?s)\\(\\*.*?\\*\\)", " ").replaceAll("\\\\\\*[^\\n]*", " ");
        Set<String> names = new java.util.HashSet<>();
        Matcher m = CONSTANT_DECLARATION.matcher(text);
        while (m.find()) {
            int depth = 0;
            StringBuilder item = new StringBuilder();
            for (char c : (m.group(1) + ",").toCharArray()) {
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                } else if (c == ',' && depth == 0) {
                    Matcher id = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*)").matcher(item);
                    if (id.find()) {
                        names.add(id.group(1));
                    }
                    item.setLength(0);
                    continue;
                }
                item.append(c);
            }
        }
        return names;
    }

    private static String stripComment(String line) {
        int c = line.indexOf("\\*");
        return c < 0 ? line : line.substring(0, c);
    }
}
