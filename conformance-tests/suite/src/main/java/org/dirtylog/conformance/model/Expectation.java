package org.dirtylog.conformance.model;

import java.util.Set;
import java.util.TreeSet;

/**
 * What the specification allows for one operation: the kernel-style returns it permits and,
 * for a harvest that returns 0, the pages the bitmap must report ({@code must}) and may report
 * ({@code may}, pages whose bits a failed harvest may or may not have taken).
 *
 * @param returns permitted returns: values {@code >= 0} or {@code -errno}
 * @param must pages a successful harvest must report, null for a non-harvest
 * @param may extra pages a successful harvest may report, null for a non-harvest
 */
public record Expectation(Set<Long> returns, Set<Long> must, Set<Long> may) {

    /** Returns an expectation of exactly {@code r}, no bitmap. */
    public static Expectation of(long r) {
        return new Expectation(Set.of(r), null, null);
    }

    /** Returns an expectation allowing any of {@code rs}, no bitmap. */
    public static Expectation anyOf(Long... rs) {
        return new Expectation(Set.of(rs), null, null);
    }

    /** Returns an expectation of a harvest returning one of {@code rs} and, when 0, a bitmap. */
    public static Expectation harvest(Set<Long> returns, Set<Long> must, Set<Long> may) {
        return new Expectation(Set.copyOf(returns), new TreeSet<>(must), new TreeSet<>(may));
    }

    /** Returns a readable form, e.g. {@code 0 with pages [3] (may also report [4])}. */
    public String describe() {
        String r = returns.size() == 1 ? show(returns.iterator().next())
                : new TreeSet<>(returns).stream().map(Expectation::show).toList().toString().replace("[", "one of ").replace("]", "");
        if (must == null) {
            return r;
        }
        return r + (returns.contains(0L) ? ", when 0: pages " + must + (may.isEmpty() ? "" : " (may also report " + may + ")") : "");
    }

    /** Returns a kernel-style return value as a person reads it: {@code 1}, or {@code -EINVAL}. */
    public static String show(long r) {
        return r >= 0 ? String.valueOf(r) : new org.dirtylog.spi.Errno((int) -r).toString();
    }
}
