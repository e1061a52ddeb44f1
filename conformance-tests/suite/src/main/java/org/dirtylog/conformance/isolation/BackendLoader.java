package org.dirtylog.conformance.isolation;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.ZipException;
import org.dirtylog.spi.DirtyLogBackend;

/**
 * Finds and constructs backends in the child JVM, as {@link java.util.ServiceLoader} would: the
 * classes listed in {@value #SERVICE} on the kit's class path ({@code built-in}) and in each
 * {@code --backend-jar} (one class loader per jar, the kit's as parent). It reads the service
 * files itself so each problem gets its own precise line and the listing goes on after it.
 */
final class BackendLoader {

    static final String SERVICE = "META-INF/services/" + DirtyLogBackend.class.getName();

    static final String BUILT_IN = "built-in";

    /** One class listed for {@link DirtyLogBackend}, and where. */
    record ProviderRef(String origin, String className) {
    }

    /** A problem of a jar or service file of {@code origin}, one line that starts with the origin. */
    record ListingProblem(String origin, String problem) {
    }

    /** A listing: the providers found, and the problems of jars and service files. */
    record Listing(List<ProviderRef> providers, List<ListingProblem> problems) {
    }

    /** A provider that cannot be constructed, with the precise reason. */
    static final class ProviderProblem extends Exception {
        private static final long serialVersionUID = 1L;

        ProviderProblem(String message) {
            super(message);
        }
    }

    private final ClassLoader kit = BackendLoader.class.getClassLoader();
    private final Map<String, URLClassLoader> jarLoaders = new HashMap<>();

    /** Returns every provider of the kit's class path and of {@code jars}, in that order. */
    Listing list(List<Path> jars) {
        List<ProviderRef> providers = new ArrayList<>();
        List<ListingProblem> problems = new ArrayList<>();
        Set<String> builtIn = new LinkedHashSet<>();
        try {
            for (URL url : Collections.list(kit.getResources(SERVICE))) {
                try (InputStream in = url.openStream()) {
                    builtIn.addAll(parse(in, BUILT_IN, BUILT_IN + " (" + url + ")", problems));
                }
            }
        } catch (IOException e) {
            problems.add(new ListingProblem(BUILT_IN, BUILT_IN + ": cannot read " + SERVICE + ": " + e.getMessage()));
        }
        builtIn.forEach(c -> providers.add(new ProviderRef(BUILT_IN, c)));
        for (Path jar : jars) {
            String origin = jar.toString();
            try (JarFile file = new JarFile(jar.toFile())) {
                JarEntry entry = file.getJarEntry(SERVICE);
                if (entry == null) {
                    problems.add(new ListingProblem(origin, origin + ": the jar lists no backend (it has no " + SERVICE + ")"));
                    continue;
                }
                Set<String> classes;
                try (InputStream in = file.getInputStream(entry)) {
                    classes = parse(in, origin, origin, problems);
                }
                if (classes.isEmpty()) {
                    problems.add(new ListingProblem(origin, origin + ": " + SERVICE + " names no class"));
                }
                classes.forEach(c -> providers.add(new ProviderRef(origin, c)));
            } catch (ZipException e) {
                problems.add(new ListingProblem(origin, origin + ": not a jar (zip) file: " + e.getMessage()));
            } catch (IOException e) {
                problems.add(new ListingProblem(origin, origin + ": not a readable jar (" + e.getClass().getSimpleName() + ": "
                        + e.getMessage() + ")"));
            }
        }
        return new Listing(providers, problems);
    }

    /**
     * Returns a new instance of {@code ref}, or null when a jar lists a class the kit's class
     * path already provides (that backend is the built-in one).
     *
     * @throws ProviderProblem when the class is missing, is not a backend, has no public
     *                         no-argument constructor, or its initialiser or constructor throws
     */
    DirtyLogBackend construct(ProviderRef ref) throws ProviderProblem {
        ClassLoader loader = loaderFor(ref.origin());
        Class<?> c;
        try {
            c = Class.forName(ref.className(), false, loader);
        } catch (ClassNotFoundException e) {
            throw new ProviderProblem(SERVICE + " lists " + ref.className() + ", which "
                    + (ref.origin().equals(BUILT_IN) ? "is not on the kit's class path" : "is in neither the jar nor the kit"));
        } catch (LinkageError e) {
            throw new ProviderProblem(ref.className() + " cannot be loaded: " + describe(e));
        }
        if (!ref.origin().equals(BUILT_IN) && c.getClassLoader() != loader) {
            return null;
        }
        if (!DirtyLogBackend.class.isAssignableFrom(c)) {
            throw new ProviderProblem(ref.className() + " does not implement " + DirtyLogBackend.class.getName());
        }
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers()) || !Modifier.isPublic(c.getModifiers())) {
            throw new ProviderProblem(ref.className() + " is not a public concrete class");
        }
        try {
            return (DirtyLogBackend) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new ProviderProblem(ref.className() + " has no public no-argument constructor");
        } catch (InvocationTargetException e) {
            throw new ProviderProblem("the constructor of " + ref.className() + " threw " + describe(e.getCause()));
        } catch (ExceptionInInitializerError e) {
            throw new ProviderProblem("the static initialiser of " + ref.className() + " threw " + describe(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new ProviderProblem(ref.className() + " cannot be constructed: " + describe(e));
        }
    }

    private ClassLoader loaderFor(String origin) {
        if (origin.equals(BUILT_IN)) {
            return kit;
        }
        return jarLoaders.computeIfAbsent(origin, o -> {
            try {
                return new URLClassLoader(new URL[] {Path.of(o).toUri().toURL()}, kit);
            } catch (MalformedURLException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Returns the class names of a service file: one per line, {@code #} starts a comment. */
    private static Set<String> parse(InputStream in, String origin, String where, List<ListingProblem> problems)
            throws IOException {
        Set<String> names = new LinkedHashSet<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int n = 0;
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            n++;
            int hash = line.indexOf('#');
            String name = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (name.isEmpty()) {
                continue;
            }
            if (!name.matches("[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*"
                    + "(\\.[\\p{javaJavaIdentifierStart}][\\p{javaJavaIdentifierPart}]*)*")) {
                problems.add(new ListingProblem(origin, where + ": line " + n + " of " + SERVICE + " is not a class name: '"
                        + name + "'"));
                continue;
            }
            names.add(name);
        }
        return names;
    }

    static String describe(Throwable t) {
        if (t == null) {
            return "an unknown error";
        }
        return t.getClass().getName() + (t.getMessage() != null ? ": " + t.getMessage() : "");
    }
}
