package org.dirtylog.conformance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.dirtylog.spi.IoctlResult;

/**
 * The trace of one rule's run ({@code certify --trace}): every call a backend received, in the
 * order the calls returned, with its arguments and what it returned, as one JSON object per
 * event. Each event carries the behaviour it belongs to ({@code b}: 0 for the rule's own VM, one
 * more for each VM forked from it, as each MODEL-01 sequence is), and the nanoseconds since the
 * rule began at which the call was made ({@code t0}) and returned ({@code t1}): a guest write
 * completed inside that window. Thread-safe: vCPU threads record while the harvester does.
 * Holds at most {@value #MAX_EVENTS} events; the rest are counted, and a trace with dropped
 * events is never checked. Lines are pure ASCII: every other character, a lone surrogate a
 * backend handed over included, is written as a JSON {@code \}{@code uXXXX} escape.
 */
public final class TraceLog {

    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    /** Events kept per rule; a trace past it is incomplete and is reported so, never checked. */
    public static final int MAX_EVENTS = 40_000;

    private final long origin = System.nanoTime();
    private final List<String> events = new ArrayList<>();
    private int dropped;
    private int behaviours = 1;

    /** Returns the nanoseconds since the rule began, the clock of {@code t0} and {@code t1}. */
    public long now() {
        return System.nanoTime() - origin;
    }

    /** Returns the number of a new behaviour (a forked VM), 1 for the first fork. */
    public synchronized int newBehaviour() {
        return behaviours++;
    }

    /**
     * Returns a new event of operation {@code op} in behaviour {@code b} by {@code actor},
     * begun at {@code t0}; {@link #add} stamps its return time and order.
     */
    public ObjectNode event(int b, String actor, String op, long t0) {
        ObjectNode n = JSON.createObjectNode();
        n.put("seq", 0);
        n.put("b", b);
        n.put("actor", actor);
        n.put("op", op);
        n.put("t0", t0);
        n.put("t1", 0);
        return n;
    }

    /** Puts {@code r}'s kernel return ({@code ret}) and, for an error, its name ({@code errno}) into {@code n}. */
    public static ObjectNode result(ObjectNode n, IoctlResult<?> r) {
        n.put("ret", r.kernelReturn());
        if (!r.isOk()) {
            n.put("errno", r.errnoOrNull().name());
        }
        return n;
    }

    /** Puts {@code values} as an array named {@code field} into {@code n}. */
    public static ObjectNode numbers(ObjectNode n, String field, Collection<Long> values) {
        ArrayNode a = n.putArray(field);
        values.forEach(a::add);
        return n;
    }

    /** Stamps {@code n} with its order and return time and appends it. */
    public synchronized void add(ObjectNode n) {
        long t1 = now();
        if (events.size() >= MAX_EVENTS) {
            dropped++;
            return;
        }
        n.put("seq", events.size());
        n.put("t1", t1);
        try {
            events.add(JSON.writeValueAsString(n));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the trace so far: the events as NDJSON lines, and how many were dropped. */
    public synchronized RuleTrace snapshot() {
        return new RuleTrace(List.copyOf(events), dropped, null);
    }
}
