/** Entry of the dashboard bundle (scripts/build-dashboard.ts). */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { App } from './app.tsx';

const root = document.getElementById('app');
if (root) render(<App />, root);
