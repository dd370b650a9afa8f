package io.javastor.kubectl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * How results are printed, like kubectl's {@code -o}: {@code table} (the default), {@code wide} (more columns),
 * {@code json} and {@code yaml} (the REST API's objects as they are, for scripts).
 */
public enum Output {
    TABLE, WIDE, JSON, YAML;

    private static final YAMLMapper YAML_MAPPER = YAMLMapper.builder().build();

    /** A column: its heading, whether only {@code wide} shows it, and how to read it from one object. */
    public record Column(String heading, boolean wideOnly, Function<JsonNode, String> value) {
        static Column of(String heading, Function<JsonNode, String> value) {
            return new Column(heading, false, value);
        }

        static Column wide(String heading, Function<JsonNode, String> value) {
            return new Column(heading, true, value);
        }
    }

    /** Prints {@code items} (the raw objects for json/yaml: {@code raw}) in this format. */
    public void print(PrintWriter out, JsonNode raw, List<JsonNode> items, List<Column> columns) {
        switch (this) {
            case JSON -> out.println(RestConnection.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(raw));
            case YAML -> out.print(YAML_MAPPER.writeValueAsString(raw));
            default -> table(out, items, columns.stream().filter(c -> this == WIDE || !c.wideOnly()).toList());
        }
        out.flush();
    }

    private static void table(PrintWriter out, List<JsonNode> items, List<Column> columns) {
        if (items.isEmpty()) {
            out.println("No resources found.");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(columns.stream().map(Column::heading).toArray(String[]::new));
        for (JsonNode item : items) {
            rows.add(columns.stream().map(c -> {
                String v = c.value().apply(item);
                return v == null || v.isEmpty() ? "<none>" : v;
            }).toArray(String[]::new));
        }
        int[] width = new int[columns.size()];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 3) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** Bytes as kubectl shows quantities: 4Gi, 512Mi, 1536Ki, or plain bytes. */
    static String bytes(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return "";
        }
        long b = n.asLong();
        String[] units = {"Ki", "Mi", "Gi", "Ti", "Pi"};
        for (int i = units.length; i > 0; i--) {
            long unit = 1L << (10 * i);
            if (b >= unit && b % unit == 0) {
                return (b / unit) + units[i - 1];
            }
        }
        return b >= (1L << 20) ? String.format("%.1fMi", b / (double) (1L << 20)) : Long.toString(b);
    }
}
