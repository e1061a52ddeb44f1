package org.dirtylog.conformance.cli;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.dirtylog.spi.DirtyLogBackend;

/**
 * Finds backends: the built-in ones with {@link ServiceLoader} on the kit's class path, and
 * those of {@code --backend-jar} files through a class loader per jar.
 */
public final class BackendLoader {

    /**
     * A backend found, and where from.
     *
     * @param backend the backend
     * @param origin {@code built-in} or the jar's path
     */
    public record Found(DirtyLogBackend backend, String origin) {
    }

    /**
     * The backends of one search.
     *
     * @param backends by name, in discovery order
     * @param problems providers that could not be loaded, one line each
     */
    public record Loaded(Map<String, Found> backends, List<String> problems) {
    }

    private BackendLoader() {
    }

    /** Returns the built-in backends and those of {@code jars}; a jar that does not exist is a problem line. */
    public static Loaded load(List<Path> jars) {
        Map<String, Found> found = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        ClassLoader kit = BackendLoader.class.getClassLoader();
        collect(ServiceLoader.load(DirtyLogBackend.class, kit), null, "built-in", found, problems);
        for (Path jar : jars) {
            if (!Files.isRegularFile(jar)) {
                problems.add(jar + ": no such file");
                continue;
            }
            URLClassLoader loader;
            try {
                loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, kit);
            } catch (MalformedURLException e) {
                problems.add(jar + ": " + e.getMessage());
                continue;
            }
            int before = found.size();
            collect(ServiceLoader.load(DirtyLogBackend.class, loader), loader, jar.toString(), found, problems);
            if (found.size() == before) {
                problems.add(jar + ": no backend listed in META-INF/services/" + DirtyLogBackend.class.getName());
            }
        }
        return new Loaded(found, problems);
    }

    private static void collect(ServiceLoader<DirtyLogBackend> services, ClassLoader only, String origin,
                                Map<String, Found> found, List<String> problems) {
        Iterator<ServiceLoader.Provider<DirtyLogBackend>> it = services.stream().iterator();
        while (true) {
            ServiceLoader.Provider<DirtyLogBackend> provider;
            try {
                if (!it.hasNext()) {
                    return;
                }
                provider = it.next();
            } catch (ServiceConfigurationError e) {
                problems.add(origin + ": " + e.getMessage());
                return;
            }
            if (only != null && provider.type().getClassLoader() != only) {
                continue;
            }
            try {
                DirtyLogBackend backend = provider.get();
                Found previous = found.putIfAbsent(backend.name(), new Found(backend, origin));
                if (previous != null && previous.backend().getClass() != backend.getClass()) {
                    problems.add(origin + ": backend name '" + backend.name() + "' is already taken by "
                            + previous.backend().getClass().getName() + " (" + previous.origin() + "); ignored");
                }
            } catch (ServiceConfigurationError | RuntimeException e) {
                problems.add(origin + ": " + provider.type().getName() + " could not be created: " + e.getMessage());
            }
        }
    }
}
