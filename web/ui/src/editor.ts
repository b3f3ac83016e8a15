import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

const highlight = HighlightStyle.define([
  { tag: tags.number, color: '#09885a' },
  { tag: tags.string, color: '#a31515' },
  { tag: tags.keyword, color: '#008080', fontWeight: 'bold' },
  { tag: tags.function(tags.variableName), color: '#008080' },
  { tag: tags.labelName, color: '#800000' },
  { tag: tags.operator, color: '#0000ff' },
  { tag: tags.modifier, color: '#0000ff' },
  { tag: tags.comment, color: '#888', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'red' },
]);

const theme = EditorView.theme({
  '&': { fontSize: '14px', background: '#fff', border: '1px solid #ccd', borderRadius: '4px' },
  '&.cm-focused': { outline: '2px solid #7aa7e0' },
  '.cm-content': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', padding: '6px 0' },
  '.cm-scroller': { overflow: 'auto' },
  '.cm-tooltip.cm-tooltip-autocomplete > ul': { fontFamily: 'ui-monospace, monospace', maxHeight: '18em' },
  '.cm-completionDetail': { color: '#888', fontStyle: 'normal', marginLeft: '1em' },
  '.cm-completionInfo': { maxWidth: '30em' },
});

/** QueryEditor is the PromQL input: highlighting, linting and completion from the querier's API. */
export interface QueryEditor {
  readonly view: EditorView;
  value(): string;
  setValue(expr: string): void;
}

/** createEditor mounts the editor in `parent`; Enter runs the query, Shift+Enter adds a line. */
export function createEditor(parent: HTMLElement, apiOrigin: string, initial: string, onRun: () => void): QueryEditor {
  const promql = new PromQLExtension().setComplete({
    remote: { url: apiOrigin, httpMethod: 'GET', cache: { maxAge: 5 * 60_000 }, httpErrorHandler: () => {} },
    maxMetricsMetadata: 10_000,
  });
  const runKeys = Prec.highest(
    keymap.of([
      {
        key: 'Enter',
        run: () => {
          onRun();
          return true;
        },
      },
      { key: 'Shift-Enter', run: insertNewlineAndIndent },
    ]),
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial,
      extensions: [
        highlightSpecialChars(),
        history(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ activateOnTyping: true }),
        syntaxHighlighting(highlight),
        placeholder('Expression (press Shift+Enter for newlines)'),
        // Completion's own keymap first, so Enter accepts a suggestion while the list is open.
        Prec.highest(keymap.of(completionKeymap)),
        runKeys,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
        promql.asExtension(),
        theme,
        EditorView.lineWrapping,
      ],
    }),
  });
  return {
    view,
    value: () => view.state.doc.toString(),
    setValue: (expr) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: expr } }),
  };
}
