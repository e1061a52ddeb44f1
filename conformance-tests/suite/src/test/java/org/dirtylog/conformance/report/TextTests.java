package org.dirtylog.conformance.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

class TextTests {

    private static final String HOSTILE = "a\uD800b\uDC00c\uFFFF\uFFFE\u0001\u0000<&>\"'\t\n\r\uD83D\uDE00";

    @Test
    void htmlEscapesMarkupAndMakesUnencodableCharactersVisible() {
        assertEquals("a\\uD800b\\uDC00c\\uFFFF\\uFFFE\\u0001\\u0000&lt;&amp;&gt;&quot;&#39;\t\n\\u000D\uD83D\uDE00",
                Text.html(HOSTILE));
    }

    @Test
    void xmlEscapesEverythingXmlForbidsAndParses() throws Exception {
        String escaped = Text.xml(HOSTILE);
        assertEquals("a\\uD800b\\uDC00c\\uFFFF\\uFFFE\\u0001\\u0000&lt;&amp;&gt;&quot;&apos;&#9;&#10;&#13;\uD83D\uDE00", escaped);
        String doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t a=\"" + escaped + "\">" + escaped + "</t>";
        var parsed = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)));
        String attribute = parsed.getDocumentElement().getAttribute("a");
        assertTrue(attribute.endsWith("<&>\"'\t\n\r\uD83D\uDE00"), "tab, newline and return survive in attributes");
    }

    @Test
    void aConsoleLineHasNoControlCharacterAndIsCut() {
        assertEquals("a\\uD800b\\uDC00c\\uFFFF\\uFFFE\\u0001\\u0000<&>\"'   \uD83D\uDE00", Text.line(HOSTILE, 200));
        assertEquals("x".repeat(7) + "...", Text.line("x".repeat(5000), 10));
    }

    @Test
    void onlyLoneSurrogatesAreRewrittenForJson() {
        assertEquals("a\\uD800b\\uDC00c\uFFFF\uFFFE\u0001\u0000<&>\"'\t\n\r\uD83D\uDE00", Text.withoutLoneSurrogates(HOSTILE));
        String plain = "plain § text";
        assertTrue(plain == Text.withoutLoneSurrogates(plain), "nothing to rewrite, nothing copied");
    }

    @Test
    void shellCommandsQuoteWhatAShellWouldInterpret() {
        assertEquals("./dirtylog certify --backend-jar '/tmp/my jars/a.jar' --rules 'GET-*' --seed -5 --x 'it'\\''s'",
                Text.shellCommand(List.of("./dirtylog", "certify", "--backend-jar", "/tmp/my jars/a.jar", "--rules", "GET-*",
                        "--seed", "-5", "--x", "it's")));
        assertEquals("''", Text.shellCommand(List.of("")));
    }
}
