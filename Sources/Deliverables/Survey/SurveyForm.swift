/// The fillable form of a published survey, as the Gateway serves it at `/s/<id>`: one field per question with its
/// label, the error next to the field it concerns, skip logic applied in the page (and again by the server), and a
/// honeypot field that people never see.
public enum SurveyForm {
    /// The honeypot's name: a submission that fills it in is from a robot.
    public static let honeypot = "website"

    public static func html(
        _ definition: SurveyDefinition, action: String, values: [String: [String]] = [:], errors: [String: String] = [:],
        hiddenFields: [String: String] = [:]
    ) -> String {
        var fields = ""
        var section: String?
        for question in definition.questions {
            if let name = question.section, !name.isEmpty, name != section {
                fields += "<h2>\(HTML.escape(name))</h2>\n"
                section = name
            }
            fields += field(question, values: values[question.id] ?? [], error: errors[question.id])
        }
        let hidden = hiddenFields.sorted { $0.key < $1.key }.map {
            "<input type=\"hidden\" name=\"\(HTML.escape($0.key, quotes: true))\" value=\"\(HTML.escape($0.value, quotes: true))\">"
        }.joined()
        let summary =
            errors.isEmpty
            ? ""
            : "<div class=\"error-summary\" role=\"alert\"><p>Please check the \(errors.count == 1 ? "answer" : "answers") marked below.</p></div>\n"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(definition.title))</title>
            <style>\(stylesheet)</style>
            </head>
            <body>
            <main>
            <h1>\(HTML.escape(definition.title))</h1>
            <p>\(HTML.escape(definition.description))</p>
            \(summary)<form method="post" action="\(HTML.escape(action, quotes: true))" novalidate>
            \(hidden)<div class="trap" aria-hidden="true"><label for="\(honeypot)">Leave this empty</label><input type="text" id="\(honeypot)" name="\(honeypot)" tabindex="-1" autocomplete="off"></div>
            \(fields)<p><button type="submit">Send my answers</button></p>
            </form>
            </main>
            <script>\(script)</script>
            </body>
            </html>

            """
    }

    static func field(_ question: SurveyDefinition.Question, values: [String], error: String?) -> String {
        let id = "q-\(question.id)"
        let required = question.required ? " <span class=\"required\">(required)</span>" : ""
        let errorID = "\(id)-error"
        let errorText = error.map { "<p class=\"error\" id=\"\(errorID)\">\(HTML.escape($0))</p>\n" } ?? ""
        let described = error == nil ? "" : " aria-describedby=\"\(errorID)\" aria-invalid=\"true\""
        let condition =
            question.show_if.map {
                " data-show-if=\"\(HTML.escape($0.question, quotes: true))\" data-show-values=\"\(HTML.escape($0.values.joined(separator: "\u{1F}"), quotes: true))\""
            } ?? ""
        let name = HTML.escape(question.id, quotes: true)
        let text = HTML.escape(question.text)
        let requiredAttribute = question.required ? " required" : ""
        switch question.type {
        case .singleChoice, .multipleChoice, .rating, .scale:
            let inputType = question.type == .multipleChoice ? "checkbox" : "radio"
            var options = ""
            for (index, choice) in question.choices.enumerated() {
                let optionID = "\(id)-\(index)"
                var label = HTML.escape(choice)
                if question.type.hasScale, let scale = question.scale {
                    if index == 0, let low = scale.min_label { label += " – \(HTML.escape(low))" }
                    if index == question.choices.count - 1, let high = scale.max_label { label += " – \(HTML.escape(high))" }
                }
                let checked = values.contains(choice) ? " checked" : ""
                options +=
                    "<div class=\"choice\"><input type=\"\(inputType)\" id=\"\(optionID)\" name=\"\(name)\" value=\"\(HTML.escape(choice, quotes: true))\"\(checked)> <label for=\"\(optionID)\">\(label)</label></div>\n"
            }
            return """
                <fieldset class="question\(question.type.hasScale ? " scale" : "")" id="\(id)"\(condition)\(described)>
                <legend>\(text)\(required)</legend>
                \(errorText)\(options)</fieldset>

                """
        case .longText:
            return """
                <div class="question" id="\(id)-field"\(condition)>
                <label for="\(id)">\(text)\(required)</label>
                \(errorText)<textarea id="\(id)" name="\(name)" rows="5"\(requiredAttribute)\(described)>\(HTML.escape(values.first ?? ""))</textarea>
                </div>

                """
        case .text, .number, .email, .date:
            let inputType = ["text": "text", "number": "number", "email": "email", "date": "date"][question.type.rawValue] ?? "text"
            var bounds = ""
            if let low = question.validation?.min { bounds += " min=\"\(SurveyDefinition.format(low))\"" }
            if let high = question.validation?.max { bounds += " max=\"\(SurveyDefinition.format(high))\"" }
            if let length = question.validation?.max_length { bounds += " maxlength=\"\(length)\"" }
            return """
                <div class="question" id="\(id)-field"\(condition)>
                <label for="\(id)">\(text)\(required)</label>
                \(errorText)<input type="\(inputType)" id="\(id)" name="\(name)" value="\(HTML.escape(values.first ?? "", quotes: true))"\(bounds)\(requiredAttribute)\(described)>
                </div>

                """
        }
    }

    static let stylesheet = """
        body{margin:0 auto;max-width:40rem;padding:1rem 1.25rem 3rem;font:1.05rem/1.55 system-ui,"DejaVu Sans",sans-serif;color:#1d1d1f;background:#fff}
        h1{font-size:1.8rem}h2{font-size:1.25rem;margin-top:2rem}
        .question{border:0;margin:0 0 1.5rem;padding:0}legend,label{font-weight:600}
        .choice label{font-weight:400}.scale .choice{display:inline-block;margin-right:1rem}
        input[type=text],input[type=email],input[type=number],input[type=date],textarea{display:block;width:100%;padding:.5rem;font:inherit;border:1px solid #6b7280;border-radius:.3rem}
        .required{font-weight:400;color:#4b5563}.error{color:#a1261b;margin:.25rem 0}
        .error-summary{border:2px solid #a1261b;padding:.5rem 1rem;margin-bottom:1.5rem}
        .trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
        button{font:inherit;padding:.7rem 1.4rem;background:#1f4e8c;color:#fff;border:0;border-radius:.4rem;cursor:pointer}
        :focus-visible{outline:3px solid #1f4e8c;outline-offset:2px}
        """

    /// Shows a question only while its condition holds; the server applies the same rule to what it stores.
    static let script = """
        (function(){var form=document.querySelector("form");if(!form)return;
        function answers(name){return Array.prototype.map.call(form.querySelectorAll('[name="'+name+'"]'),function(input){
        return (input.type==="radio"||input.type==="checkbox")?(input.checked?input.value:null):input.value;}).filter(Boolean);}
        function update(){form.querySelectorAll("[data-show-if]").forEach(function(el){var wanted=el.getAttribute("data-show-values").split("\\u001f");
        var shown=answers(el.getAttribute("data-show-if")).some(function(v){return wanted.indexOf(v)>=0;});el.hidden=!shown;});}
        form.addEventListener("change",update);update();})();
        """
}
