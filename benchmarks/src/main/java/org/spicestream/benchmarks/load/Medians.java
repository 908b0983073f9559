package org.spicestream.benchmarks.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The median of repeated runs, key by key: numbers take the median, anything else the first run's value. */
final class Medians {

    private Medians() {}

    static Map<String, Object> of(List<Map<String, Object>> runs) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (runs.isEmpty()) {
            return m;
        }
        for (String key : runs.get(0).keySet()) {
            List<Double> values = new ArrayList<>();
            boolean numeric = true;
            for (Map<String, Object> run : runs) {
                if (run.get(key) instanceof Number n) {
                    values.add(n.doubleValue());
                } else {
                    numeric = false;
                }
            }
            m.put(key, numeric ? median(values) : runs.get(0).get(key));
        }
        m.put("runs", runs.size());
        return m;
    }

    /** The middle value; with an even count the mean of the two middle ones. */
    static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        v.sort(null);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
