using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Pilots;

/// <summary>
/// The pilot report in three formats carrying the same facts. Every figure comes from <see cref="PilotFacts"/> (the
/// ledger), none is computed here. The HTML is one file with inline SVG and no external asset; every text in it is
/// HTML-encoded, because customer names, titles and model names are whatever someone typed.
/// </summary>
public static class PilotReport
{
    public static readonly IReadOnlyList<string> Languages = ["zh-Hans", "zh-Hant", "en"];
    public static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Traditional Chinese uses Taiwan wording (專案, 預算, 驗收, 簽核), not a character-by-character conversion.
    private static readonly Dictionary<string, string[]> Strings = new(StringComparer.Ordinal)
    {
        ["title"] = ["试点报告", "試行專案報告", "Pilot report"],
        ["summary"] = ["概要", "摘要", "Summary"],
        ["customer"] = ["客户", "客戶", "Customer"],
        ["vendor"] = ["供应商", "廠商", "Vendor"],
        ["period"] = ["周期", "期間", "Period"],
        ["status"] = ["状态", "狀態", "Status"],
        ["contract"] = ["合同金额", "合約金額", "Contract value"],
        ["budget"] = ["模型预算", "模型預算", "Model budget"],
        ["costToDate"] = ["累计成本", "累計成本", "Cost to date"],
        ["effort"] = ["交付投入", "交付投入", "Delivery effort"],
        ["spend"] = ["模型与工具费用", "模型與工具費用", "Model and tool spend"],
        ["margin"] = ["毛利", "毛利", "Margin"],
        ["burn"] = ["日均消耗", "每日消耗", "Burn rate per day"],
        ["forecast"] = ["到期预测", "到期預估", "Forecast to end date"],
        ["scope"] = ["范围", "範圍", "Scope"],
        ["baseline"] = ["基线（冻结于 {0}）", "基準（凍結於 {0}）", "Baseline (frozen {0})"],
        ["notFrozen"] = ["范围尚未冻结", "範圍尚未凍結", "The scope is not frozen"],
        ["changes"] = ["变更请求", "變更申請", "Change requests"],
        ["acceptance"] = ["验收结果", "驗收結果", "Acceptance"],
        ["noEvaluations"] = ["本服务器未启用评测：所有标准为“未评测”", "本伺服器未啟用評測：所有標準為「未評測」", "Evaluations are not available on this server: every criterion is not evaluated"],
        ["byVendor"] = ["按供应商", "依廠商", "By vendor"],
        ["byModel"] = ["按模型", "依模型", "By model"],
        ["byApp"] = ["按应用", "依應用程式", "By app"],
        ["byDay"] = ["按日", "依日期", "By day"],
        ["byRole"] = ["按角色", "依角色", "By role"],
        ["byItem"] = ["按范围项", "依範圍項目", "By scope item"],
        ["alerts"] = ["告警", "警示", "Alerts"],
        ["unconverted"] = ["无法换算（未计入）", "無法換算（未計入）", "Not convertible (left out)"],
        ["signoff"] = ["签署", "簽核", "Sign-off"],
        ["item"] = ["项目", "項目", "Item"],
        ["priority"] = ["优先级", "優先順序", "Priority"],
        ["result"] = ["结果", "結果", "Result"],
        ["evidence"] = ["依据", "佐證", "Evidence"],
        ["amount"] = ["金额", "金額", "Amount"],
        ["days"] = ["人天", "人天", "Person-days"],
        ["passed"] = ["通过", "通過", "passed"],
        ["failed"] = ["未通过", "未通過", "failed"],
        ["not_evaluated"] = ["未评测", "未評測", "not evaluated"],
        ["not_measured"] = ["未测量", "未量測", "not measured"],
        ["no_criteria"] = ["无验收标准", "無驗收標準", "no criteria"],
        ["must"] = ["必须", "必須", "must"],
        ["should"] = ["应该", "應該", "should"],
        ["could"] = ["可以", "可以", "could"],
        ["wont"] = ["不做", "不做", "won't"],
        ["pending"] = ["待审批", "待審核", "pending"],
        ["approved"] = ["已批准", "已核准", "approved"],
        ["rejected"] = ["已拒绝", "已駁回", "rejected"],
        ["generated"] = ["生成时间", "產生時間", "Generated"],
        ["requests"] = ["请求数", "請求數", "Requests"],
        ["bakeoff"] = ["对比评测", "比較評測", "Bake-off"],
        ["rank"] = ["名次", "名次", "Rank"],
        ["target"] = ["评测对象", "評測對象", "Target"],
        ["score"] = ["加权得分", "加權得分", "Weighted score"],
        ["costPer1000"] = ["每千题成本", "每千題成本", "Cost per 1,000 questions"],
        ["weights"] = ["权重", "權重", "Weights"],
        ["missingRuns"] = ["已不存在的评测运行", "已不存在的評測執行", "Runs no longer there"],
    };

    public static string T(string key, string lang) =>
        Strings.TryGetValue(key, out var s) ? s[lang switch { "zh-Hans" => 0, "zh-Hant" => 1, _ => 2 }] : key;

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    // Exact amounts without trailing zeros (1.5 × 2000.10 shows 3000.15, not 3000.150); the JSON carries the decimals as they are.
    private static string D(decimal d) => d.ToString("0.############################", CultureInfo.InvariantCulture);

    // Burn rate and forecast are quotients (28 digits of a division): to the cent in md and html, exact in the JSON.
    private static string Cents(decimal d) => Math.Round(d, 2, MidpointRounding.AwayFromZero).ToString("0.00", CultureInfo.InvariantCulture);
    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static JsonArray Shares(IReadOnlyList<Share> shares) => [.. shares.Select(s => (JsonNode)new JsonObject { ["name"] = s.Name, ["amount"] = s.Amount })];

    public static JsonObject Json(PilotFacts f, string lang)
    {
        var p = f.Pilot;
        var l = f.Ledger;
        static JsonNode? node<T>(T value, JsonSerializerOptions o) => JsonSerializer.SerializeToNode(value, o);
        return new JsonObject
        {
            ["lang"] = lang,
            ["generatedAt"] = f.GeneratedAt,
            ["summary"] = new JsonObject
            {
                ["id"] = p.Id, ["name"] = p.Name, ["customer"] = p.Customer, ["vendor"] = p.Vendor, ["status"] = p.Status,
                ["start"] = Day(p.Start), ["end"] = Day(p.End), ["currency"] = l.Currency,
                ["contractValue"] = l.ContractValue, ["budget"] = l.Budget, ["effort"] = l.Effort, ["effortDays"] = l.EffortDays, ["spend"] = l.Spend,
                ["costToDate"] = l.CostToDate, ["margin"] = l.Margin, ["marginRatio"] = l.MarginRatio, ["burnRatePerDay"] = l.BurnRatePerDay,
                ["forecast"] = l.Forecast, ["budgetUsed"] = l.BudgetUsed, ["contractUsed"] = l.ContractUsed, ["requests"] = l.Requests,
                ["elapsedDays"] = l.ElapsedDays, ["totalDays"] = l.TotalDays,
            },
            ["scope"] = new JsonObject
            {
                ["frozenAt"] = p.FrozenAt,
                ["baseline"] = node(p.Baseline, PilotJson.Options),
                ["current"] = node(f.Scope, PilotJson.Options),
                ["changes"] = node(f.Changes, PilotJson.Options),
            },
            ["acceptance"] = new JsonObject
            {
                ["evaluationsAvailable"] = f.EvaluationsAvailable,
                ["items"] = node(f.Acceptance, PilotJson.Options),
            },
            ["bakeoffs"] = new JsonArray([.. f.Bakeoffs.Select(b => JsonSerializer.SerializeToNode(PilotBakeoffs.View(b), PilotJson.Options))]),
            ["spend"] = new JsonObject
            {
                ["byVendor"] = Shares(l.SpendByVendor), ["byModel"] = Shares(l.SpendByModel), ["byApp"] = Shares(l.SpendByApp),
                ["byDay"] = new JsonArray([.. l.ByDay.Select(d => (JsonNode)new JsonObject { ["day"] = Day(d.Day), ["spend"] = d.Spend, ["effort"] = d.Effort })]),
            },
            ["effort"] = new JsonObject
            {
                ["byRole"] = Shares(l.EffortByRole), ["byScopeItem"] = Shares(l.EffortByScopeItem),
                ["entries"] = new JsonArray([.. f.Effort.Select(e => (JsonNode)new JsonObject
                {
                    ["id"] = e.Id, ["scopeItem"] = e.ScopeItem, ["role"] = e.Role, ["person"] = e.Person, ["days"] = e.Days,
                    ["dayRate"] = node(e.DayRate, PilotJson.Options), ["date"] = Day(e.Date), ["amount"] = e.Amount,
                })]),
            },
            ["unconverted"] = node(l.Unconverted, PilotJson.Options),
            ["alerts"] = node(f.Alerts, PilotJson.Options),
            ["signoffs"] = new JsonArray([.. f.Signoffs.Select(s => (JsonNode)new JsonObject { ["side"] = s.Side, ["name"] = s.Name, ["at"] = s.At, ["sha256"] = s.Sha256 })]),
        };
    }

    // Markdown table cells: pipes and line breaks would break the table; angle brackets are encoded so a renderer shows them as text.
    private static string Md(string? s) => (s ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal);

    public static string Markdown(PilotFacts f, string lang)
    {
        var p = f.Pilot;
        var l = f.Ledger;
        var c = l.Currency;
        var sb = new StringBuilder();
        void Line(string s = "") => sb.Append(s).Append('\n');
        Line($"# {T("title", lang)}: {Md(p.Name)}");
        Line();
        Line($"{T("generated", lang)}: {f.GeneratedAt:O}");
        Line();
        Line($"## {T("summary", lang)}");
        Line();
        Line($"| | |");
        Line($"|---|---|");
        Line($"| {T("customer", lang)} | {Md(p.Customer)} |");
        Line($"| {T("vendor", lang)} | {Md(p.Vendor)} |");
        Line($"| {T("period", lang)} | {Day(p.Start)} – {Day(p.End)} |");
        Line($"| {T("status", lang)} | {p.Status} |");
        Line($"| {T("contract", lang)} | {D(l.ContractValue)} {c} |");
        if (l.Budget is { } b)
        {
            Line($"| {T("budget", lang)} | {D(b)} {c} |");
        }
        Line($"| {T("effort", lang)} | {D(l.Effort)} {c} ({D(l.EffortDays)} {T("days", lang)}) |");
        Line($"| {T("spend", lang)} | {D(l.Spend)} {c} |");
        Line($"| {T("costToDate", lang)} | {D(l.CostToDate)} {c} |");
        Line($"| {T("margin", lang)} | {D(l.Margin)} {c} |");
        Line($"| {T("burn", lang)} | {Cents(l.BurnRatePerDay)} {c} |");
        Line($"| {T("forecast", lang)} | {Cents(l.Forecast)} {c} |");
        Line($"| {T("requests", lang)} | {l.Requests} |");
        Line();
        Line($"## {T("scope", lang)}");
        Line();
        Line(p.FrozenAt is { } fz ? string.Format(CultureInfo.InvariantCulture, T("baseline", lang), fz.ToString("O")) : T("notFrozen", lang));
        Line();
        Line($"| {T("item", lang)} | {T("priority", lang)} |");
        Line("|---|---|");
        foreach (var s in p.Baseline ?? f.Scope)
        {
            Line($"| {Md(s.Title)} | {T(s.Priority, lang)} |");
        }
        Line();
        Line($"### {T("changes", lang)}");
        Line();
        foreach (var ch in f.Changes)
        {
            Line($"- {ch.Kind} {Md(ch.Scope?.Title ?? ch.Item)} — {T(ch.Status, lang)}{(ch.DecidedBy is null ? "" : " (" + Md(ch.DecidedBy) + ")")}: {Md(ch.Reason)}; "
                + $"{D(ch.Impact.EffortDays)} {T("days", lang)}, {D(ch.Impact.Cost.Amount)} {ch.Impact.Cost.Currency}, {ch.Impact.ScheduleDays:+0;-0;0} d");
        }
        Line();
        Line($"## {T("acceptance", lang)}");
        Line();
        if (!f.EvaluationsAvailable)
        {
            Line(T("noEvaluations", lang));
            Line();
        }
        Line($"| {T("item", lang)} | {T("priority", lang)} | {T("result", lang)} | {T("evidence", lang)} |");
        Line("|---|---|---|---|");
        foreach (var a in f.Acceptance)
        {
            Line($"| {Md(a.Title)} | {T(a.Priority, lang)} | {T(a.Status, lang)} | {Md(Evidence(a, lang))} |");
        }
        foreach (var bo in f.Bakeoffs)
        {
            Line();
            Line($"## {T("bakeoff", lang)}: {Md(bo.Bakeoff.Title)}");
            Line();
            Line($"{T("weights", lang)}: {Md(WeightsText(bo))}");
            Line();
            Line($"| {T("rank", lang)} | {T("target", lang)} | {T("score", lang)} | {string.Join(" | ", BakeoffMetrics)} | {T("costPer1000", lang)} |");
            Line($"|---|---|---|{string.Concat(BakeoffMetrics.Select(_ => "---|"))}---|");
            foreach (var r in bo.Table.Rows)
            {
                Line($"| {r.Rank} | {Md(PilotBakeoffs.TargetLabel(r.Target))} | {Num(r.Score)} | {string.Join(" | ", BakeoffMetrics.Select(m => Num(r.Metrics.GetValueOrDefault(m))))} | "
                    + $"{D(r.CostPer1000Questions)} {Md(r.Currency)} |");
            }
            if (bo.Missing.Count > 0)
            {
                Line();
                Line($"{T("missingRuns", lang)}: {Md(string.Join(", ", bo.Missing))}");
            }
        }
        Line();
        Line($"## {T("spend", lang)}");
        foreach (var (title, shares) in new[] { ("byVendor", l.SpendByVendor), ("byModel", l.SpendByModel), ("byApp", l.SpendByApp) })
        {
            Line();
            Line($"### {T(title, lang)}");
            Line();
            Line($"| | {T("amount", lang)} ({c}) |");
            Line("|---|---|");
            foreach (var s in shares)
            {
                Line($"| {Md(s.Name)} | {D(s.Amount)} |");
            }
        }
        Line();
        Line($"### {T("byDay", lang)}");
        Line();
        Line($"| | {T("spend", lang)} | {T("effort", lang)} |");
        Line("|---|---|---|");
        foreach (var d in l.ByDay)
        {
            Line($"| {Day(d.Day)} | {D(d.Spend)} | {D(d.Effort)} |");
        }
        Line();
        Line($"## {T("effort", lang)}");
        foreach (var (title, shares) in new[] { ("byRole", l.EffortByRole), ("byItem", l.EffortByScopeItem) })
        {
            Line();
            Line($"### {T(title, lang)}");
            Line();
            Line($"| | {T("amount", lang)} ({c}) |");
            Line("|---|---|");
            foreach (var s in shares)
            {
                Line($"| {Md(s.Name)} | {D(s.Amount)} |");
            }
        }
        if (l.Unconverted.Count > 0)
        {
            Line();
            Line($"## {T("unconverted", lang)}");
            Line();
            foreach (var u in l.Unconverted)
            {
                Line($"- {Md(u.Source)}: {D(u.Amount)} {Md(u.Currency)} ({Day(u.Day)})");
            }
        }
        Line();
        Line($"## {T("alerts", lang)}");
        Line();
        foreach (var a in f.Alerts)
        {
            Line($"- {a.Kind} ≥ {D(a.Threshold)}: {D(a.Ratio)} ({a.At:O}) {Md(a.Delivery)}");
        }
        Line();
        Line($"## {T("signoff", lang)}");
        Line();
        foreach (var s in f.Signoffs)
        {
            Line($"- {s.Side}: {Md(s.Name)} {s.At:O} sha256 {s.Sha256}");
        }
        return sb.ToString();
    }

    /// <summary>The metrics a bake-off table shows beside the score.</summary>
    private static readonly string[] BakeoffMetrics = ["factRecall", "sourceHit", "refusalRecall", "latencyP95Ms"];

    private static string Num(double? v) => v is { } x ? Math.Round(x, 4).ToString(CultureInfo.InvariantCulture) : "—";

    private static string WeightsText(BakeoffResult b) =>
        string.Join(", ", b.Table.Weights.Select(w => $"{w.Key} {w.Value.ToString(CultureInfo.InvariantCulture)}"));

    private static string Evidence(ItemAcceptance a, string lang) => string.Join("; ", a.Criteria.Select(c =>
        $"{c.Metric} {(c.Direction == "max" ? "≤" : "≥")} {c.Threshold.ToString(CultureInfo.InvariantCulture)} [{c.Set}]: "
        + (c.Value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "—") + (c.RunId is null ? "" : $" (run {c.RunId})") + $" {T(c.Status, lang)}"));

    private static string H(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Html(PilotFacts f, string lang)
    {
        var p = f.Pilot;
        var l = f.Ledger;
        var c = H(l.Currency);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html><html lang=\"").Append(H(lang)).Append("\"><head><meta charset=\"utf-8\"><title>")
            .Append(H(T("title", lang) + ": " + p.Name)).Append("</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}")
            .Append(".passed{color:#176b2c}.failed{color:#b00020}.num{text-align:right;font-variant-numeric:tabular-nums}")
            .Append("</style></head><body>");
        sb.Append("<h1>").Append(H(T("title", lang))).Append(": ").Append(H(p.Name)).Append("</h1>");
        sb.Append("<p>").Append(H(T("generated", lang))).Append(": ").Append(H(f.GeneratedAt.ToString("O"))).Append("</p>");
        sb.Append("<h2>").Append(H(T("summary", lang))).Append("</h2><table>");
        void Row(string k, string v) => sb.Append("<tr><th>").Append(H(T(k, lang))).Append("</th><td>").Append(H(v)).Append("</td></tr>");
        Row("customer", p.Customer);
        Row("vendor", p.Vendor ?? "");
        Row("period", $"{Day(p.Start)} – {Day(p.End)}");
        Row("status", p.Status);
        Row("contract", $"{D(l.ContractValue)} {l.Currency}");
        if (l.Budget is { } b)
        {
            Row("budget", $"{D(b)} {l.Currency}");
        }
        Row("effort", $"{D(l.Effort)} {l.Currency} ({D(l.EffortDays)})");
        Row("spend", $"{D(l.Spend)} {l.Currency}");
        Row("costToDate", $"{D(l.CostToDate)} {l.Currency}");
        Row("margin", $"{D(l.Margin)} {l.Currency}");
        Row("burn", $"{Cents(l.BurnRatePerDay)} {l.Currency}");
        Row("forecast", $"{Cents(l.Forecast)} {l.Currency}");
        sb.Append("</table>");
        sb.Append(Bars(T("costToDate", lang), [new Share(T("contract", lang), l.ContractValue), new Share(T("costToDate", lang), l.CostToDate),
            new Share(T("forecast", lang), l.Forecast)]));
        sb.Append("<h2>").Append(H(T("scope", lang))).Append("</h2><p>")
            .Append(H(p.FrozenAt is { } fz ? string.Format(CultureInfo.InvariantCulture, T("baseline", lang), fz.ToString("O")) : T("notFrozen", lang))).Append("</p>");
        sb.Append("<table><tr><th>").Append(H(T("item", lang))).Append("</th><th>").Append(H(T("priority", lang))).Append("</th></tr>");
        foreach (var s in p.Baseline ?? f.Scope)
        {
            sb.Append("<tr><td>").Append(H(s.Title)).Append("</td><td>").Append(H(T(s.Priority, lang))).Append("</td></tr>");
        }
        sb.Append("</table><h3>").Append(H(T("changes", lang))).Append("</h3><ul>");
        foreach (var ch in f.Changes)
        {
            sb.Append("<li>").Append(H($"{ch.Kind} {ch.Scope?.Title ?? ch.Item} — {T(ch.Status, lang)}: {ch.Reason}; {D(ch.Impact.EffortDays)} {T("days", lang)}, "
                + $"{D(ch.Impact.Cost.Amount)} {ch.Impact.Cost.Currency}, {ch.Impact.ScheduleDays} d")).Append("</li>");
        }
        sb.Append("</ul><h2>").Append(H(T("acceptance", lang))).Append("</h2>");
        if (!f.EvaluationsAvailable)
        {
            sb.Append("<p>").Append(H(T("noEvaluations", lang))).Append("</p>");
        }
        sb.Append("<table><tr><th>").Append(H(T("item", lang))).Append("</th><th>").Append(H(T("priority", lang))).Append("</th><th>")
            .Append(H(T("result", lang))).Append("</th><th>").Append(H(T("evidence", lang))).Append("</th></tr>");
        foreach (var a in f.Acceptance)
        {
            sb.Append("<tr><td>").Append(H(a.Title)).Append("</td><td>").Append(H(T(a.Priority, lang))).Append("</td><td class=\"").Append(H(a.Status)).Append("\">")
                .Append(H(T(a.Status, lang))).Append("</td><td>").Append(H(Evidence(a, lang))).Append("</td></tr>");
        }
        sb.Append("</table>");
        foreach (var bo in f.Bakeoffs)
        {
            sb.Append("<h2>").Append(H(T("bakeoff", lang) + ": " + bo.Bakeoff.Title)).Append("</h2><p>").Append(H(T("weights", lang) + ": " + WeightsText(bo)))
                .Append("</p><table><tr><th>").Append(H(T("rank", lang))).Append("</th><th>").Append(H(T("target", lang))).Append("</th><th>")
                .Append(H(T("score", lang))).Append("</th>");
            foreach (var m in BakeoffMetrics)
            {
                sb.Append("<th>").Append(H(m)).Append("</th>");
            }
            sb.Append("<th>").Append(H(T("costPer1000", lang))).Append("</th></tr>");
            foreach (var r in bo.Table.Rows)
            {
                sb.Append("<tr><td class=\"num\">").Append(r.Rank).Append("</td><td>").Append(H(PilotBakeoffs.TargetLabel(r.Target))).Append("</td><td class=\"num\">")
                    .Append(H(Num(r.Score))).Append("</td>");
                foreach (var m in BakeoffMetrics)
                {
                    sb.Append("<td class=\"num\">").Append(H(Num(r.Metrics.GetValueOrDefault(m)))).Append("</td>");
                }
                sb.Append("<td class=\"num\">").Append(H($"{D(r.CostPer1000Questions)} {r.Currency}")).Append("</td></tr>");
            }
            sb.Append("</table>");
            sb.Append(Bars(T("score", lang), [.. bo.Table.Rows.Select(r => new Share(PilotBakeoffs.TargetLabel(r.Target), (decimal)r.Score))]));
            if (bo.Missing.Count > 0)
            {
                sb.Append("<p>").Append(H(T("missingRuns", lang) + ": " + string.Join(", ", bo.Missing))).Append("</p>");
            }
        }
        sb.Append("<h2>").Append(H(T("spend", lang))).Append("</h2>");
        sb.Append(Bars(T("byVendor", lang), l.SpendByVendor)).Append(Bars(T("byModel", lang), l.SpendByModel)).Append(Bars(T("byApp", lang), l.SpendByApp));
        sb.Append(Bars(T("byDay", lang), [.. l.ByDay.Select(d => new Share(Day(d.Day), d.Spend + d.Effort))]));
        sb.Append("<h2>").Append(H(T("effort", lang))).Append("</h2>");
        sb.Append(Bars(T("byRole", lang), l.EffortByRole)).Append(Bars(T("byItem", lang), l.EffortByScopeItem));
        if (l.Unconverted.Count > 0)
        {
            sb.Append("<h2>").Append(H(T("unconverted", lang))).Append("</h2><ul>");
            foreach (var u in l.Unconverted)
            {
                sb.Append("<li>").Append(H($"{u.Source}: {D(u.Amount)} {u.Currency} ({Day(u.Day)})")).Append("</li>");
            }
            sb.Append("</ul>");
        }
        sb.Append("<h2>").Append(H(T("alerts", lang))).Append("</h2><ul>");
        foreach (var a in f.Alerts)
        {
            sb.Append("<li>").Append(H($"{a.Kind} ≥ {D(a.Threshold)}: {D(a.Ratio)} ({a.At:O}) {a.Delivery}")).Append("</li>");
        }
        sb.Append("</ul><h2>").Append(H(T("signoff", lang))).Append("</h2><ul>");
        foreach (var s in f.Signoffs)
        {
            sb.Append("<li>").Append(H($"{s.Side}: {s.Name} {s.At:O} sha256 {s.Sha256}")).Append("</li>");
        }
        sb.Append("</ul><p>").Append(c).Append("</p></body></html>");
        return sb.ToString();
    }

    // A horizontal bar chart as inline SVG: bars scaled to the largest amount, labels and amounts as encoded text.
    private static string Bars(string title, IReadOnlyList<Share> shares)
    {
        if (shares.Count == 0)
        {
            return "";
        }
        const int rowHeight = 22, labelWidth = 220, barWidth = 360;
        var max = shares.Max(s => Math.Abs(s.Amount));
        var sb = new StringBuilder();
        sb.Append("<h3>").Append(H(title)).Append("</h3><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"")
            .Append(labelWidth + barWidth + 160).Append("\" height=\"").Append(shares.Count * rowHeight + 4).Append("\">");
        for (var i = 0; i < shares.Count; i++)
        {
            var s = shares[i];
            var width = max == 0 ? 0 : (int)Math.Round(Math.Abs(s.Amount) / max * barWidth);
            var y = i * rowHeight + 2;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 15}\" font-size=\"12\">").Append(H(s.Name.Length > 40 ? s.Name[..40] + "…" : s.Name)).Append("</text>")
                .Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{width}\" height=\"{rowHeight - 6}\" fill=\"#3b6ea8\"/>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + width + 6}\" y=\"{y + 15}\" font-size=\"12\">").Append(H(D(s.Amount))).Append("</text>");
        }
        return sb.Append("</svg>").ToString();
    }
}
