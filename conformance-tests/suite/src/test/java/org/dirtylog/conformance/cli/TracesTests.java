package org.dirtylog.conformance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.TraceLog;
import org.dirtylog.spi.Errno;
import org.dirtylog.spi.IoctlResult;
import org.junit.jupiter.api.Test;

/** The NDJSON of {@code certify --trace}: one well-formed JSON object per line, whatever strings a backend hands over. */
class TracesTests {

    private static final List<String> HOSTILE = List.of("line\nbreak", "carriage\rreturn", "tab\tand NUL \u0000",
            "quote \" and backslash \\", "lone \uD800 high", "lone \uDC00 low", "pair \uD83D\uDE00", "separator \u2028\u2029",
            "next line \u0085", "</script><!--", "\uFFFF");

    @Test
    void everyEventIsOneLineThatParsesBackToTheSameStringsWhateverTheBackendSaid() throws Exception {
        TraceLog log = new TraceLog();
        for (String s : HOSTILE) {
            ObjectNode e = log.event(0, s, "KVM_RUN", log.now());
            e.put("exit", s);
            TraceLog.result(e, IoctlResult.err(Errno.EFAULT));
            log.add(e);
        }
        RuleTrace t = log.snapshot();
        String text = new String(Traces.ndjson(t), StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\n"));
        List<String> lines = List.of(text.substring(0, text.length() - 1).split("\n", -1));
        assertEquals(HOSTILE.size(), lines.size(), text);
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) {
            assertTrue(lines.get(i).indexOf('\r') < 0, lines.get(i));
            JsonNode e = json.readTree(lines.get(i));
            assertEquals(i, e.get("seq").asInt());
            assertEquals(HOSTILE.get(i), e.get("actor").asText());
            assertEquals(HOSTILE.get(i), e.get("exit").asText());
            assertEquals(-14, e.get("ret").asLong());
            assertEquals("EFAULT", e.get("errno").asText());
            assertTrue(e.get("t1").asLong() >= e.get("t0").asLong(), lines.get(i));
        }
        // Pure ASCII: a lone surrogate or a line separator is an escape, never a broken byte sequence or a line break.
        assertTrue(text.chars().allMatch(ch -> ch < 128), text);
    }

    @Test
    void eventsPastTheLimitAreCountedAsDroppedNotKept() {
        TraceLog log = new TraceLog();
        for (int i = 0; i < TraceLog.MAX_EVENTS + 5; i++) {
            log.add(log.event(0, "vm", "KVM_CHECK_EXTENSION", 0));
        }
        RuleTrace t = log.snapshot();
        assertEquals(TraceLog.MAX_EVENTS, t.events().size());
        assertEquals(5, t.dropped());
    }
}
