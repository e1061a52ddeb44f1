package org.dirtylog.spi;

/**
 * One 8-byte guest store: the vCPU writes {@code value} (little-endian) at guest physical
 * address {@code gpa}, which must be 8-byte aligned and inside a memslot.
 */
@Api(Api.Status.STABLE)
public record GuestWrite(long gpa, long value) {

    public GuestWrite {
        if ((gpa & 7) != 0) {
            throw new IllegalArgumentException("guest write must be 8-byte aligned: 0x" + Long.toHexString(gpa));
        }
    }
}
