package org.dirtylog.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.dirtylog.spi.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerturbationTests {

    /** Calls native code the way a kernel backend does: through an FFM linker. */
    static final class NativeCalling {
        static Object linker() {
            return java.lang.foreign.Linker.nativeLinker();
        }
    }

    @Test
    void codeThatLinksNativeCallsIsFoundInAClassFolder() {
        assertTrue(Perturbation.nativeCodeIn(NativeCalling.class), "the test classes hold NativeCalling");
        assertFalse(Perturbation.nativeCodeIn(Errno.class), "the SPI calls no native code");
    }

    @Test
    void codeThatLinksNativeCallsIsFoundInAJar(@TempDir Path dir) throws Exception {
        String entry = NativeCalling.class.getName().replace('.', '/') + ".class";
        Path jar = dir.resolve("native-backend.jar");
        try (InputStream in = NativeCalling.class.getClassLoader().getResourceAsStream(entry);
             OutputStream file = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.putNextEntry(new ZipEntry(entry));
            in.transferTo(zip);
            zip.closeEntry();
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Class<?> loaded = loader.loadClass(NativeCalling.class.getName());
            assertEquals(jar.toUri().toURL().toString(), loaded.getProtectionDomain().getCodeSource().getLocation().toString());
            assertTrue(Perturbation.nativeCodeIn(loaded));
        }
    }

    @Test
    void withoutTheAgentARuleIsPerturbedKitSideOnlyAndSaysWhy() throws IOException {
        Perturbation p = Perturbation.forRule(new Object(), 7);
        p.on();
        p.off();
        Perturbation.Settings s = p.settings();
        if (!Perturbation.agentAttached()) {
            assertEquals(Perturbation.KIT_SIDE_ONLY, s.mode());
            assertTrue(s.reason().contains("not attached"), s.reason());
            assertFalse(s.agentOn());
        }
        assertEquals(7, s.seed());
    }
}
