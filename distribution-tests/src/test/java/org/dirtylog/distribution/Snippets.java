package org.dirtylog.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test helper: the code blocks of a Markdown page that a test runs or writes out as files. A
 * block is taken when the line before its opening fence is {@code <!-- KIND: NAME -->}, a comment
 * a reader of the rendered page never sees; the page stays the only copy of its snippets.
 */
final class Snippets {

    private static final Pattern MARKED_BLOCK = Pattern.compile(
            "^<!-- ([\\w-]+): ([\\w.-]+) -->\\n```[\\w]*\\n(.*?)^```$", Pattern.MULTILINE | Pattern.DOTALL);

    private Snippets() {
    }

    /** Returns the blocks of {@code page} marked {@code kind}, by name, in page order. */
    static Map<String, String> of(Path page, String kind) throws IOException {
        Map<String, String> blocks = new LinkedHashMap<>();
        Matcher m = MARKED_BLOCK.matcher(Files.readString(page).replace("\r\n", "\n"));
        while (m.find()) {
            if (m.group(1).equals(kind) && blocks.put(m.group(2), m.group(3)) != null) {
                throw new IllegalStateException(page + ": two blocks marked " + kind + ": " + m.group(2));
            }
        }
        return blocks;
    }

    /** Returns the commands of a shell snippet: its lines without comments, blank ones left out. */
    static List<String> commands(String block) {
        return block.lines().map(line -> line.replaceFirst("\\s+#.*$", "").strip())
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    }
}
