// What a trigger link hands the agent for each message it takes, whichever broker it came
// from, and how a payload's bytes become the event's `payload`.
/** The event's `payload`: JSON when the bytes parse as JSON, else the UTF-8 text. */
export function decodePayload(payload) {
    const text = payload.toString('utf8');
    try {
        return JSON.parse(text);
    }
    catch {
        return text;
    }
}
//# sourceMappingURL=trigger-message.js.map