package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DirtyLogTests {

    private static String stderrOf(Runnable r) {
        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void an_unknown_command_is_bad_usage_with_one_line_naming_the_known_ones() {
        int[] code = new int[1];
        String err = stderrOf(() -> code[0] = DirtyLog.run(new String[] {"certfy"}));
        assertEquals(2, code[0]);
        assertEquals(1, err.strip().lines().count(), err);
        assertTrue(err.contains("certify, backends, check"), err);
    }

    @Test
    void no_command_is_bad_usage_and_help_is_not() {
        assertEquals(2, DirtyLog.run(new String[0]));
        assertEquals(0, DirtyLog.run(new String[] {"--help"}));
    }
}
