package org.dirtylog.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dirtylog.conformance.RuleTrace;
import org.dirtylog.conformance.TraceCheck;
import org.dirtylog.conformance.TraceChecker;
import org.dirtylog.spec.ModelManifest;
import org.dirtylog.spec.TlcRunner;
import org.dirtylog.spec.trace.TraceValidator;

/**
 * The trace checker of {@code certify --trace}: the suite's traces checked by TLC against
 * {@code spec/models/contract/DirtyLogContract.tla} through the spec module's
 * {@link TraceValidator}, one TLC run per backend.
 */
final class ContractTraceChecker implements TraceChecker {

    private final Optional<Path> modelsDir;
    private final TlcRunner runner;

    /** Returns a checker that finds {@code spec/models} from {@code start} (or the kit root {@code dirtylog.root}). */
    ContractTraceChecker(Path start, TlcRunner runner) {
        this.modelsDir = ModelManifest.findModelsDir(start);
        this.runner = runner;
    }

    @Override
    public Map<String, TraceCheck> check(Map<String, RuleTrace> traces) throws InterruptedException {
        Map<String, TraceCheck> out = new LinkedHashMap<>();
        Optional<String> missing = modelsDir.isEmpty() ? Optional.of("no spec/models folder found, so no contract to check against")
                : !Files.isRegularFile(modelsDir.get().resolve("contract/DirtyLogContract.tla"))
                        ? Optional.of("the contract " + modelsDir.get().resolve("contract/DirtyLogContract.tla") + " is missing")
                        : Optional.empty();
        if (missing.isPresent()) {
            traces.forEach((id, t) -> out.put(id, TraceCheck.notChecked(missing.get(), t.events().size())));
            return out;
        }
        Map<String, List<String>> lines = new LinkedHashMap<>();
        traces.forEach((id, t) -> lines.put(id, t.events()));
        Map<String, TraceValidator.Verdict> verdicts;
        try {
            verdicts = new TraceValidator(modelsDir.get(), runner).check(lines);
        } catch (IOException e) {
            traces.forEach((id, t) -> out.put(id, TraceCheck.notChecked("TLC did not run: " + e.getMessage(),
                    t.events().size())));
            return out;
        }
        verdicts.forEach((id, v) -> out.put(id, new TraceCheck(v.outcome(), v.message(), v.checked(), v.events(), v.step(),
                v.state(), v.seconds())));
        return out;
    }
}
