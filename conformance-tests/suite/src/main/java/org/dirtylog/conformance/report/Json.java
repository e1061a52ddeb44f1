package org.dirtylog.conformance.report;

import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;

/**
 * The JSON writer of the kit's files and of the parent-child protocol: UTF-8, control
 * characters escaped as JSON requires, and every surrogate escaped as {@code \}{@code uXXXX}, so a
 * lone surrogate in a backend's message is written (and read back) exactly instead of making the
 * UTF-8 encoder fail.
 */
public final class Json {

    /** Compact output: one value per line, as the protocol needs. */
    public static final ObjectMapper COMPACT = configure(new ObjectMapper());

    private Json() {
    }

    private static ObjectMapper configure(ObjectMapper mapper) {
        mapper.getFactory().setCharacterEscapes(new SurrogateEscapes());
        return mapper;
    }

    /** Jackson's standard escapes plus every UTF-16 surrogate code unit. */
    private static final class SurrogateEscapes extends CharacterEscapes {

        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if (ch >= Character.MIN_SURROGATE && ch <= Character.MAX_SURROGATE) {
                return new SerializedString(String.format(Locale.ROOT, "\\u%04x", ch));
            }
            return null;
        }
    }
}
