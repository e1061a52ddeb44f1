package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class CapabilitiesTests {

    @Test
    void user_dirty_log_is_listed_exactly_when_a_generation_is_given() {
        assertThrows(IllegalArgumentException.class,
                () -> new Capabilities(Set.of(Capability.USER_DIRTY_LOG), 0, 1, 0, 4096));
        assertThrows(IllegalArgumentException.class,
                () -> new Capabilities(Set.of(Capability.GET_DIRTY_LOG), 1, 1, 0, 4096));
        Capabilities rfc = new Capabilities(Set.of(Capability.USER_DIRTY_LOG), 1, 1, 0, 4096);
        assertTrue(rfc.has(Capability.USER_DIRTY_LOG));
        assertFalse(rfc.has(Capability.GET_DIRTY_LOG));
    }

    @Test
    void initially_set_is_declared_only_with_manual_protect() {
        assertThrows(IllegalArgumentException.class,
                () -> new Capabilities(Set.of(Capability.DIRTY_LOG_INITIALLY_SET), 0, 1, 0, 4096));
        Capabilities both = new Capabilities(
                Set.of(Capability.MANUAL_DIRTY_LOG_PROTECT, Capability.DIRTY_LOG_INITIALLY_SET), 0, 1, 0, 4096);
        assertTrue(both.has(Capability.DIRTY_LOG_INITIALLY_SET));
        assertEquals("manual-dirty-log-protect", Capability.MANUAL_DIRTY_LOG_PROTECT.label());
        assertEquals("dirty-log-initially-set", Capability.DIRTY_LOG_INITIALLY_SET.label());
    }

    @Test
    void the_guest_range_must_be_page_aligned_and_non_empty() {
        assertThrows(IllegalArgumentException.class,
                () -> new Capabilities(Set.of(), 0, 1, 100, 8192));
        assertThrows(IllegalArgumentException.class,
                () -> new Capabilities(Set.of(), 0, 1, 8192, 8192));
    }

    @Test
    void an_unavailable_backend_must_say_why() {
        assertThrows(IllegalArgumentException.class, () -> Availability.unavailable(" "));
        assertFalse(Availability.unavailable("no /dev/kvm").available());
    }
}
