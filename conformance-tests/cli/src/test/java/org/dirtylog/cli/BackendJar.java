package org.dirtylog.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * A third party's backend jar, compiled while the test runs: one class named {@code com.thirdparty.<Cls>}
 * that forwards to {@code reference-x86} unless a method is replaced, listed in the jar's
 * {@code META-INF/services} file. {@link #misbehaveIn} makes the VM do something hostile in one
 * ioctl only, so the rules that never make that call still pass.
 */
final class BackendJar {

    private final String name;
    private final Map<String, String> methods = new LinkedHashMap<>();
    private String fields = "";
    private String serviceLine;

    private BackendJar(String name) {
        this.name = name;
        methods.put("name", "public String name() { return \"" + name + "\"; }");
        methods.put("description", "public String description() { return \"third-party backend " + name + "\"; }");
        methods.put("availability", "public org.dirtylog.spi.Availability availability() { return d.availability(); }");
        methods.put("capabilities", "public org.dirtylog.spi.Capabilities capabilities() { return d.capabilities(); }");
        methods.put("createVm", "public org.dirtylog.spi.IoctlResult<org.dirtylog.spi.BackendVm> createVm() { return d.createVm(); }");
    }

    /** Returns a backend called {@code name} that behaves like reference-x86. */
    static BackendJar named(String name) {
        return new BackendJar(name);
    }

    /** Replaces method {@code method} (name, description, availability, capabilities, createVm) with {@code code}. */
    BackendJar method(String method, String code) {
        methods.put(method, code);
        return this;
    }

    /** Adds a constructor, static fields or helper methods. */
    BackendJar members(String code) {
        fields = fields + code + "\n";
        return this;
    }

    /** Lists {@code line} in the service file instead of the class. */
    BackendJar serviceLine(String line) {
        this.serviceLine = line;
        return this;
    }

    /**
     * Makes every VM run {@code code} when {@code ioctl} is called on a slot id of 32 or more
     * (reference-x86 has 32 slots, so only GET-05 and GET-07 make such a call among the GET rules).
     */
    BackendJar misbehaveIn(String ioctl, String code) {
        return method("createVm", """
                public org.dirtylog.spi.IoctlResult<org.dirtylog.spi.BackendVm> createVm() {
                    org.dirtylog.spi.BackendVm vm = d.createVm().value();
                    return org.dirtylog.spi.IoctlResult.ok((org.dirtylog.spi.BackendVm) java.lang.reflect.Proxy.newProxyInstance(
                        getClass().getClassLoader(), new Class<?>[] {org.dirtylog.spi.BackendVm.class}, (p, m, a) -> {
                            if (m.getName().equals("%s") && (Integer) a[0] >= 32) {
                                %s
                            }
                            try {
                                return m.invoke(vm, a);
                            } catch (java.lang.reflect.InvocationTargetException e) {
                                throw e.getCause();
                            }
                        }));
                }
                """.formatted(ioctl, code));
    }

    /** Returns the class name this jar's backend has. */
    String className() {
        return "com.thirdparty." + simpleName();
    }

    private String simpleName() {
        return "Backend" + Integer.toHexString(name.hashCode()) + Integer.toHexString(methods.hashCode() ^ fields.hashCode());
    }

    /** Compiles the backend into {@code dir/<name>.jar} and returns the jar. */
    Path build(Path dir) throws IOException {
        String cls = simpleName();
        StringBuilder source = new StringBuilder("package com.thirdparty;\n\npublic final class " + cls
                + " implements org.dirtylog.spi.DirtyLogBackend {\n"
                + "    private final org.dirtylog.spi.DirtyLogBackend d = new org.dirtylog.arch.x86.X86ReferenceBackend();\n");
        source.append(fields.replace("CLASS", cls));
        methods.values().forEach(m -> source.append(m).append('\n'));
        source.append("}\n");
        Path work = Files.createTempDirectory(dir, "src-");
        Path src = work.resolve("com/thirdparty/" + cls + ".java");
        Path classes = work.resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, null, diagnostics, "-nowarn", "-d", classes.toString(), "-cp",
                System.getProperty("java.class.path"), src.toString());
        assertEquals(0, rc, () -> "compiling the third-party backend:\n" + source + "\n" + diagnostics);
        Path jar = dir.resolve(name.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + cls + ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/org.dirtylog.spi.DirtyLogBackend"));
            out.write(((serviceLine != null ? serviceLine : "com.thirdparty." + cls) + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }
}
