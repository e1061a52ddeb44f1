package org.dirtylog.conformance.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportFolderTests {

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNewFolderIsCreatedLockedAndRemovedAgainWhenNothingWasWritten(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("a/b/report");
        try (ReportFolder f = ReportFolder.open(report, false)) {
            assertTrue(Files.isRegularFile(report.resolve(ReportFolder.LOCK)));
        }
        assertFalse(Files.exists(dir.resolve("a")), "every folder the run created is gone");
    }

    @Test
    void aSecondOpenWhileTheFirstHoldsTheFolderIsRefused(@TempDir Path dir) throws Exception {
        try (ReportFolder first = ReportFolder.open(dir.resolve("r"), false)) {
            first.clear();
            ReportFolder.Refused e = assertThrows(ReportFolder.Refused.class, () -> ReportFolder.open(dir.resolve("r"), true));
            assertTrue(e.getMessage().startsWith("another certify run is writing to "), e.getMessage());
        }
        try (ReportFolder again = ReportFolder.open(dir.resolve("r"), true)) {
            assertEquals(dir.resolve("r"), again.dir());
        }
    }

    @Test
    void filesAreWrittenWholeThroughARenameAndNeverOutsideTheFolder(@TempDir Path dir) throws Exception {
        try (ReportFolder f = ReportFolder.open(dir.resolve("r"), false)) {
            f.clear();
            f.write("x/certificate.json", "{}".getBytes(StandardCharsets.UTF_8));
            f.write("x/certificate.json", "{\"v\":2}".getBytes(StandardCharsets.UTF_8));
            assertEquals("{\"v\":2}", Files.readString(dir.resolve("r/x/certificate.json")));
            assertEquals(List.of("certificate.json"), list(dir.resolve("r/x")), "no temporary file is left");
            assertThrows(IllegalArgumentException.class, () -> f.write("../escape.json", new byte[0]));
            assertThrows(IllegalArgumentException.class, () -> f.write(".", new byte[0]));
        }
        assertFalse(Files.exists(dir.resolve("escape.json")));
    }

    @Test
    void clearingRemovesTheEarlierReportAndMarksTheFolder(@TempDir Path dir) throws Exception {
        Path r = Files.createDirectories(dir.resolve("r/old"));
        Files.writeString(r.resolve("certificate.json"), "{\"certified\": true}");
        Files.writeString(dir.resolve("r/certificate.json"), "{\"certified\": true}");
        try (ReportFolder f = ReportFolder.open(dir.resolve("r"), true)) {
            f.clear();
        }
        assertEquals(List.of(ReportFolder.MARKER, ReportFolder.LOCK), list(dir.resolve("r")));
    }
}
