// The dashboard's entry: styles, then the app into #app.
import { render } from 'preact'
import './styles.css'
import { App } from './views/app.js'

const root = document.getElementById('app')
if (root !== null) {
  root.textContent = ''
  render(<App />, root)
}
