package org.dirtylog.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The behaviours of the TLA+ contract {@code DirtyLogContract} that MODEL-02 replays, read from
 * the suite's resource {@code model02-behaviours.txt} (written by {@code TLC -simulate} in the
 * spec module, whose test keeps it equal to what TLC produces).
 */
final class ContractBehaviours {

    static final String RESOURCE = "model02-behaviours.txt";

    /** One contract action of a behaviour: TLC's state number, the action's name and arguments. */
    record Step(int state, String action, List<String> args) {
        /** Returns the step as the resource writes it. */
        String describe() {
            return args.isEmpty() ? action : action + " " + String.join(" ", args);
        }
    }

    /**
     * Behaviour {@code number} (from 1), the harvest kind TLC drew it with (the contract's
     * constant {@code Kinds} was {@code {kind}}: {@code get}, {@code switch}, {@code getclear} or
     * {@code ring}) and its steps in order.
     */
    record Behaviour(int number, String kind, List<Step> steps) {
    }

    private ContractBehaviours() {
    }

    /** Returns the behaviours of the resource, in order. */
    static List<Behaviour> load() {
        try (InputStream in = ContractBehaviours.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the suite");
            }
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the behaviours written in {@code lines}; a line of another form is an error. */
    static List<Behaviour> parse(List<String> lines) {
        List<Behaviour> behaviours = new ArrayList<>();
        List<Step> steps = null;
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.strip().split(" ");
            if (words[0].equals("behaviour") && words.length == 3) {
                steps = new ArrayList<>();
                behaviours.add(new Behaviour(Integer.parseInt(words[1]), words[2], steps));
            } else if (steps != null && words.length >= 2 && words[0].chars().allMatch(Character::isDigit)) {
                steps.add(new Step(Integer.parseInt(words[0]), words[1], List.of(Arrays.copyOfRange(words, 2, words.length))));
            } else {
                throw new IllegalArgumentException("not a behaviour step: " + line);
            }
        }
        return behaviours.stream().map(b -> new Behaviour(b.number(), b.kind(), List.copyOf(b.steps()))).toList();
    }
}
