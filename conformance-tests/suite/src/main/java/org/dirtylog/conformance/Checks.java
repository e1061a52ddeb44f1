package org.dirtylog.conformance;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the static method {@code void m(Scenario)} that checks the catalogue rule
 * {@link #value()}. Every rule has exactly one such method and every such method names a rule
 * of the catalogue ({@code RuleCatalogueTests} keeps both directions true).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Checks {

    /** Returns the id of the rule the method checks, e.g. {@code GET-02}. */
    String value();
}
