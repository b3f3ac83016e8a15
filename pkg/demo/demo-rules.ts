import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * DEMO_RULES is the rule file of the demo's ruler, over the demo data (pkg/datagen: an HTTP
 * service `job="api"` answering about 2.4 % of its requests with code 500, node_exporter
 * `job="node"`) and, when Prometheus runs, the live `up` series. The API rules use 15-minute
 * windows: the demo history ends when the demo starts, so they see it for that long.
 * DemoApiErrorRatioHigh (> 1 %) fires on the demo data, DemoApiErrorRatioCritical (> 10 %) does not.
 */
export const DEMO_RULES = `# Written by \`tessera demo\` at every start (edits are overwritten): the rules of the demo's
# \`tessera rule\`, evaluated through the demo querier. The demo API (job="api") answers about 2.4 %
# of its requests with code 500: DemoApiErrorRatioHigh (> 1 %) fires, DemoApiErrorRatioCritical
# (> 10 %) does not. The history ends when the demo starts (it is topped up to then at each start),
# so the 15-minute windows of the API rules see it for 15 minutes after that; the live group
# follows the Prometheus pair.
groups:
  - name: demo-api
    rules:
      - record: job:http_requests:rate15m
        expr: sum by (job) (rate(http_requests_total[15m]))
      - record: job_code:http_requests:rate15m
        expr: sum by (job, code) (rate(http_requests_total[15m]))
      - record: job_handler:http_request_duration_seconds:p90_15m
        expr: histogram_quantile(0.9, sum by (job, handler, le) (rate(http_request_duration_seconds_bucket[15m])))
      - alert: DemoApiErrorRatioHigh
        expr: |
          sum by (job) (rate(http_requests_total{code=~"5.."}[15m]))
            / sum by (job) (rate(http_requests_total[15m])) > 0.01
        for: 30s
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.job }} answers {{ $value | humanizePercentage }} of its requests with a 5xx code'
          description: 'More than 1 % of the requests of job {{ $labels.job }} failed over the last 15 minutes.'
      - alert: DemoApiErrorRatioCritical
        expr: |
          sum by (job) (rate(http_requests_total{code=~"5.."}[15m]))
            / sum by (job) (rate(http_requests_total[15m])) > 0.1
        for: 30s
        labels:
          severity: critical
        annotations:
          summary: '{{ $labels.job }} answers {{ $value | humanizePercentage }} of its requests with a 5xx code'
  - name: demo-node
    rules:
      - record: instance:node_cpu_utilisation:rate5m
        expr: 1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))
      - record: job:up:sum
        expr: sum by (job, cluster) (up)
      - alert: DemoTargetDown
        expr: up == 0
        for: 1m
        labels:
          severity: warning
        annotations:
          summary: 'target {{ $labels.instance }} of job {{ $labels.job }} is down'
`;

/** DEMO_RULE_GROUPS are the group names of DEMO_RULES, in file order. */
export const DEMO_RULE_GROUPS = ['demo-api', 'demo-node'] as const;

/** writeDemoRules writes DEMO_RULES to `<dir>/demo.rules.yaml` (replacing it) and returns its path. */
export async function writeDemoRules(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'demo.rules.yaml');
  await writeFile(file, DEMO_RULES);
  return file;
}
