package org.dirtylog.spi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The API status of a published type: what a third-party backend may rely on.
 * {@code STABLE} types change only with a major version of the kit.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
@Api(Api.Status.STABLE)
public @interface Api {

    /** Returns how far a backend may rely on the annotated type. */
    Status value();

    /** How stable a published type is. */
    enum Status {
        /** Changes only with a major version. */
        STABLE,
        /** May change in a minor version; feedback wanted. */
        EXPERIMENTAL,
        /** Used by the kit itself; not for backends. */
        INTERNAL
    }
}
