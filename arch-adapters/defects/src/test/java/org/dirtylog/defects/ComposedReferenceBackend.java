package org.dirtylog.defects;

import java.util.function.Supplier;
import org.dirtylog.kvm.ArchHooks;
import org.dirtylog.kvm.CoreSeams;
import org.dirtylog.kvm.ReferenceBackend;

/**
 * A reference backend composed with a defect, in a class of this module as each correct
 * reference backend is a class of its architecture's module ({@code X86ReferenceBackend}).
 *
 * <p>Why a class of its own: the suite decides whether the perturbation agent applies from the
 * code source of the backend's class (a backend whose own jar calls native code runs with the
 * kit's jitter only). A bare {@link ReferenceBackend} has {@code reference-impl}'s jar as its code
 * source, which maps guest memory through FFM, so the defects ran without the agent while the
 * correct backends they are compared with ran with it. Here both get the same perturbation.
 */
final class ComposedReferenceBackend extends ReferenceBackend {

    ComposedReferenceBackend(String name, String description, Supplier<? extends ArchHooks> hooks, CoreSeams seams) {
        super(name, description, hooks, seams);
    }
}
