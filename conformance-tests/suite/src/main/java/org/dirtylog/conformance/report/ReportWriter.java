package org.dirtylog.conformance.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.dirtylog.conformance.Certificate;

/** Writes the report files of a certification run. */
public final class ReportWriter {

    private ReportWriter() {
    }

    /** Writes {@code certificate.json}, {@code junit.xml} and {@code index.html} of {@code c} into {@code dir}. */
    public static void write(Certificate c, Path dir) throws IOException {
        Files.createDirectories(dir);
        CertificateJson.write(c, dir.resolve("certificate.json"));
        JunitXml.write(c, dir.resolve("junit.xml"));
        Files.writeString(dir.resolve("index.html"), HtmlReport.render(c), StandardCharsets.UTF_8);
    }

    /** Writes one sub-directory per certificate (named after its backend) and a top-level index. */
    public static void writeAll(List<Certificate> certificates, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> dirs = certificates.stream().map(c -> safeName(c.backend())).toList();
        for (int i = 0; i < certificates.size(); i++) {
            write(certificates.get(i), dir.resolve(dirs.get(i)));
        }
        Files.writeString(dir.resolve("index.html"), HtmlReport.renderIndex(certificates, dirs), StandardCharsets.UTF_8);
    }

    /** Returns a directory name for a backend name. */
    public static String safeName(String backend) {
        return backend.replaceAll("[^A-Za-z0-9._+-]", "_");
    }
}
