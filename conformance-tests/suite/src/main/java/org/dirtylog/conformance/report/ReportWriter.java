package org.dirtylog.conformance.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.dirtylog.conformance.BackendNames;
import org.dirtylog.conformance.Certificate;
import org.dirtylog.conformance.RunOptions;

/**
 * Writes the report files of a certification run into its {@link ReportFolder}. A run of one
 * backend writes its certificate at the top of the folder; a run of several writes one
 * sub-folder per backend, named after it, and a top-level index written last.
 */
public final class ReportWriter {

    private ReportWriter() {
    }

    /**
     * Writes {@code certificate.json}, {@code junit.xml}, {@code index.html} and, when the
     * backend's JVM printed anything, {@code output.log} of {@code c} into {@code subfolder}
     * ({@code ""} for the top of the folder).
     */
    public static void write(ReportFolder folder, String subfolder, Certificate c, String output) throws IOException {
        if (!subfolder.isEmpty() && (BackendNames.problem(subfolder).isPresent() || !subfolder.equals(c.backend()))) {
            throw new IllegalArgumentException("sub-folder " + subfolder + " is not the backend's name " + c.backend());
        }
        String prefix = subfolder.isEmpty() ? "" : subfolder + "/";
        if (!output.isBlank()) {
            folder.write(prefix + "output.log", output.getBytes(StandardCharsets.UTF_8));
        }
        folder.write(prefix + "junit.xml", JunitXml.render(c).getBytes(StandardCharsets.UTF_8));
        folder.write(prefix + "index.html", HtmlReport.render(c).getBytes(StandardCharsets.UTF_8));
        folder.write(prefix + "certificate.json", CertificateJson.render(c));
    }

    /** Writes the top-level {@code index.html} of a run over several backends. */
    public static void writeIndex(ReportFolder folder, List<Certificate> certificates, List<String> notRun,
                                  RunOptions options, List<String> backendJars) throws IOException {
        folder.write("index.html", HtmlReport.renderIndex(certificates, notRun, options, backendJars)
                .getBytes(StandardCharsets.UTF_8));
    }
}
