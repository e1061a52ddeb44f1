package org.dirtylog.perturbation;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Inserts a call of {@link Noise#point()} before every instruction of a backend class where a
 * race window opens: reads and writes of volatile fields; calls into
 * {@code java.util.concurrent} (atomics, locks, {@code LockSupport.park}, latches, concurrent
 * maps); {@code VarHandle} accesses; {@code MemorySegment} reads, writes, copies and fills;
 * {@code monitorenter} and {@code monitorexit}; {@code Object.wait}/{@code notify}; the entry
 * of {@code synchronized} methods; and plain stores into {@code long[]} and {@code int[]}
 * elements, the second half of a read-modify-write of a bitmap word kept in a Java array
 * (copy a word, then clear it with a plain store). Spin loops ({@code Thread.onSpinWait}) are waits, not
 * accesses, and get no point. The inserted call takes and leaves nothing on the
 * operand stack, so frames stay valid.
 *
 * <p>Which classes: everything a class loader other than the bootstrap and platform loaders
 * defines, except the JDK, the kit's own packages (the SPI, the suite, the CLI, this agent) and
 * the libraries the kit runs on (JUnit, Jackson, QuickTheories, ASM, Maven's test runner);
 * {@code include} prefixes, when given, narrow that further.
 */
final class NoiseTransformer implements ClassFileTransformer {

    /** Internal-name prefixes never instrumented. */
    static final List<String> EXCLUDED = List.of("java/", "javax/", "jdk/", "sun/", "com/sun/", "org/dirtylog/spi/",
            "org/dirtylog/conformance/", "org/dirtylog/cli/", "org/dirtylog/perturbation/", "org/dirtylog/spec/",
            "org/junit/", "junit/", "org/opentest4j/", "org/apiguardian/", "org/quicktheories/", "com/fasterxml/",
            "org/apache/", "org/objectweb/asm/", "net/bytebuddy/", "kotlin/", "org/jetbrains/", "com/tngtech/",
            "org/slf4j/", "tlc2/", "tla2sany/", "util/", "pcal/");

    private static final String NOISE = "org/dirtylog/perturbation/Noise";
    private static final Set<String> MEMORY_SEGMENT_ACCESS = Set.of("get", "set", "getAtIndex", "setAtIndex", "copy",
            "copyFrom", "fill", "getString", "setString", "toArray", "mismatch");

    private final List<String> include;
    /** Per class loader and owner class: the names of its volatile fields (own and inherited). */
    private final Map<ClassLoader, Map<String, Set<String>>> volatileFields = new ConcurrentHashMap<>();

    /** Returns a transformer; {@code include} internal-name prefixes, if not empty, limit the classes. */
    NoiseTransformer(List<String> include) {
        this.include = List.copyOf(include);
    }

    /** Returns true when the class {@code internalName} of {@code loader} is the backend's. */
    boolean eligible(String internalName, ClassLoader loader) {
        if (internalName == null || loader == null || loader == ClassLoader.getPlatformClassLoader()) {
            return false;
        }
        for (String prefix : EXCLUDED) {
            if (internalName.startsWith(prefix)) {
                return false;
            }
        }
        if (include.isEmpty()) {
            return true;
        }
        for (String prefix : include) {
            if (internalName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (!eligible(className, loader)) {
            return null;
        }
        try {
            return instrument(classfileBuffer, loader);
        } catch (RuntimeException | LinkageError e) {
            // A class the agent cannot rewrite runs unperturbed rather than not at all.
            return null;
        }
    }

    /** Returns the class file with its points inserted, or null when it has none. */
    byte[] instrument(byte[] classFile, ClassLoader loader) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        int[] sites = {0};
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
                    return mv;
                }
                boolean synchronizedMethod = (access & Opcodes.ACC_SYNCHRONIZED) != 0;
                return new MethodVisitor(Opcodes.ASM9, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        if (synchronizedMethod) {
                            point();
                        }
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.MONITORENTER || opcode == Opcodes.MONITOREXIT || opcode == Opcodes.LASTORE
                                || opcode == Opcodes.IASTORE) {
                            point();
                        }
                        super.visitInsn(opcode);
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String field, String descriptor) {
                        if (isVolatile(loader, owner, field)) {
                            point();
                        }
                        super.visitFieldInsn(opcode, owner, field, descriptor);
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String descriptor, boolean itf) {
                        if (opensWindow(owner, method)) {
                            point();
                        }
                        super.visitMethodInsn(opcode, owner, method, descriptor, itf);
                    }

                    private void point() {
                        sites[0]++;
                        super.visitMethodInsn(Opcodes.INVOKESTATIC, NOISE, "point", "()V", false);
                    }
                };
            }
        }, 0);
        if (sites[0] == 0) {
            return null;
        }
        Noise.countClass(sites[0]);
        return writer.toByteArray();
    }

    /** Returns true for a call into an API where a race window opens. */
    static boolean opensWindow(String owner, String method) {
        if (owner.startsWith("java/util/concurrent/")) {
            return true;
        }
        return switch (owner) {
            case "java/lang/invoke/VarHandle" -> !method.endsWith("Fence") || method.equals("fullFence");
            case "java/lang/foreign/MemorySegment" -> MEMORY_SEGMENT_ACCESS.contains(method);
            case "java/lang/Object" -> method.equals("wait") || method.startsWith("notify");
            default -> false;
        };
    }

    private boolean isVolatile(ClassLoader loader, String owner, String field) {
        Map<String, Set<String>> byOwner = volatileFields.computeIfAbsent(loader, l -> new ConcurrentHashMap<>());
        Set<String> fields = byOwner.get(owner);
        if (fields == null) {
            fields = readVolatileFields(loader, owner, 0);
            byOwner.put(owner, fields);
        }
        return fields.contains(field);
    }

    /** Returns the volatile fields {@code owner} declares or inherits, read from its class file. */
    private Set<String> readVolatileFields(ClassLoader loader, String owner, int depth) {
        if (depth > 20 || owner.startsWith("java/")) {
            return Set.of();
        }
        Set<String> out = ConcurrentHashMap.newKeySet();
        String[] superName = {null};
        try (InputStream in = loader.getResourceAsStream(owner + ".class")) {
            if (in == null) {
                return out;
            }
            new ClassReader(in.readAllBytes()).accept(new ClassVisitor(Opcodes.ASM9) {
                @Override
                public void visit(int version, int access, String name, String signature, String sup, String[] interfaces) {
                    superName[0] = sup;
                }

                @Override
                public FieldVisitor visitField(int access, String name, String descriptor, String signature, Object value) {
                    if ((access & Opcodes.ACC_VOLATILE) != 0) {
                        out.add(name);
                    }
                    return null;
                }
            }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        } catch (IOException e) {
            return out;
        }
        if (superName[0] != null) {
            out.addAll(readVolatileFields(loader, superName[0], depth + 1));
        }
        return out;
    }
}
