package io.javastor.kubectl;

import java.io.PrintWriter;
import java.util.Set;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * A verb on one resource, spelt as kubectl spells them: {@code VERB KIND ID ...} ({@code scale volume ID 3},
 * {@code cordon node ID}). Subclasses say which kinds they take and do the call.
 */
abstract class TargetedCommand {
    @ParentCommand
    KubectlJavastor root;
    @Spec
    CommandSpec spec;
    @Parameters(index = "0", paramLabel = "KIND")
    String kind;
    @Parameters(index = "1", paramLabel = "ID")
    String id;

    /** The kind given, when it is one of {@code kinds}; otherwise a usage error naming them. */
    String kind(Set<String> kinds) {
        if (!kinds.contains(kind)) {
            throw new IllegalArgumentException("'" + kind + "': " + spec.name() + " takes " + String.join(" or ", kinds.stream().sorted().toList())
                    + " (kubectl javastor " + spec.name() + " " + kinds.stream().sorted().findFirst().orElseThrow() + " ID ...)");
        }
        return kind;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
