package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ErrnoTests {

    @Test
    void known_numbers_have_their_kernel_names() {
        assertEquals("EINVAL", Errno.EINVAL.name());
        assertEquals("ENOENT", Errno.ENOENT.name());
        assertEquals("EFAULT", Errno.EFAULT.name());
        assertEquals("EEXIST", Errno.EEXIST.name());
        assertEquals(22, Errno.EINVAL.value());
    }

    @Test
    void an_unknown_number_from_a_real_kernel_survives_as_itself() {
        Errno odd = Errno.fromKernelReturn(-133);
        assertEquals(133, odd.value());
        assertEquals("E133", odd.name());
        assertEquals(-133, odd.kernelReturn());
    }

    @Test
    void errno_values_compare_by_number() {
        assertEquals(Errno.EINVAL, new Errno(22));
        assertEquals("-EINVAL", Errno.EINVAL.toString());
    }

    @Test
    void zero_and_negative_numbers_are_not_errnos() {
        assertThrows(IllegalArgumentException.class, () -> new Errno(0));
        assertThrows(IllegalArgumentException.class, () -> new Errno(-22));
    }
}
