import Image from '@tiptap/extension-image';
import { EditorContent, useEditor } from '@tiptap/react';
import type { Editor as TipTap } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { useEffect, useRef } from 'react';

// The server keeps raster images inline (an SVG may hold a script).
const INLINE = /^image\/(png|jpeg|gif|webp)$/;

interface Props {
  /** The HTML the editor starts with (the server's sanitised `html` when editing). */
  initial?: string;
  label: string;
  onChange: (html: string, empty: boolean) => void;
  /** Called with the editor once it exists, so the caller can clear or focus it. */
  onReady?: (editor: TipTap) => void;
  /** Ctrl+Enter. */
  onSubmit?: () => void;
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** Insert the images among `files` inline; true when there was one. */
function insertImages(editor: TipTap, files: FileList | null | undefined, at?: number): boolean {
  const images = [...(files ?? [])].filter((f) => INLINE.test(f.type));
  if (!images.length) return false;
  void Promise.all(images.map(readAsDataUrl)).then((sources) => {
    let chain = editor.chain().focus();
    if (at !== undefined) chain = chain.setTextSelection(at);
    for (const src of sources) chain = chain.setImage({ src, alt: 'pasted image' });
    chain.run();
  });
  return true;
}

const BUTTONS: { label: string; mark: string; run: (e: TipTap) => void; active: (e: TipTap) => boolean }[] = [
  { label: 'Bold', mark: 'B', run: (e) => e.chain().focus().toggleBold().run(), active: (e) => e.isActive('bold') },
  { label: 'Italic', mark: 'I', run: (e) => e.chain().focus().toggleItalic().run(), active: (e) => e.isActive('italic') },
  { label: 'Code', mark: '</>', run: (e) => e.chain().focus().toggleCode().run(), active: (e) => e.isActive('code') },
  { label: 'Heading', mark: 'H', run: (e) => e.chain().focus().toggleHeading({ level: 3 }).run(), active: (e) => e.isActive('heading') },
  { label: 'Bulleted list', mark: '•', run: (e) => e.chain().focus().toggleBulletList().run(), active: (e) => e.isActive('bulletList') },
  { label: 'Numbered list', mark: '1.', run: (e) => e.chain().focus().toggleOrderedList().run(), active: (e) => e.isActive('orderedList') },
  { label: 'Code block', mark: '{ }', run: (e) => e.chain().focus().toggleCodeBlock().run(), active: (e) => e.isActive('codeBlock') },
];

/**
 * The annotation editor: WYSIWYG with Markdown shortcuts (`# `, `**bold**`, `- `, `> `,
 * triple backticks), and images pasted or dropped into the text, kept inline.
 */
export function Editor({ initial = '', label, onChange, onReady, onSubmit }: Props) {
  // The paste and drop handlers are made once; they reach the editor through this ref.
  const editorRef = useRef<TipTap | null>(null);
  const submitRef = useRef(onSubmit);
  submitRef.current = onSubmit;
  const editor = useEditor({
    extensions: [StarterKit, Image.configure({ allowBase64: true, inline: false })],
    content: initial,
    editorProps: {
      attributes: {
        class: 'editor-body',
        role: 'textbox',
        'aria-multiline': 'true',
        'aria-label': label,
        'data-testid': 'logbook-editor',
      },
      handlePaste: (_view, event) => {
        const target = editorRef.current;
        return !!target && insertImages(target, event.clipboardData?.files);
      },
      handleDrop: (view, event) => {
        const target = editorRef.current;
        const at = view.posAtCoords({ left: event.clientX, top: event.clientY })?.pos;
        if (!target || !insertImages(target, event.dataTransfer?.files, at)) return false;
        event.preventDefault();
        return true;
      },
      handleKeyDown: (_view, event) => {
        if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && submitRef.current) {
          submitRef.current();
          return true;
        }
        return false;
      },
    },
    onUpdate: ({ editor: e }) => onChange(e.getHTML(), e.isEmpty),
  });
  editorRef.current = editor;
  useEffect(() => {
    if (editor) {
      onReady?.(editor);
      onChange(editor.getHTML(), editor.isEmpty);
    }
    // Once per editor.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editor]);
  return (
    <div className="editor">
      <div className="editor-toolbar" role="toolbar" aria-label={`Formatting of ${label}`}>
        {BUTTONS.map((b) => (
          <button
            key={b.label}
            type="button"
            className="small-button"
            aria-label={b.label}
            title={b.label}
            aria-pressed={editor ? b.active(editor) : false}
            onClick={() => editor && b.run(editor)}
          >
            {b.mark}
          </button>
        ))}
        <label className="small-button file-button">
          <span>Image…</span>
          <input
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            className="visually-hidden"
            aria-label="Insert an image"
            onChange={(e) => {
              if (editor) insertImages(editor, e.target.files);
              e.target.value = '';
            }}
          />
        </label>
      </div>
      <EditorContent editor={editor} />
      <p className="muted small editor-hint">
        Markdown works as you type: <code># </code> heading, <code>**bold**</code>, <code>- </code> list,{' '}
        <code>```</code> code. Paste or drop images into the text. Ctrl+Enter saves.
      </p>
    </div>
  );
}
